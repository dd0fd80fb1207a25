/**
 * The socket as a hostile or careless client meets it: malformed, oversize and random frames,
 * unknown requests, abrupt disconnects, slow readers. The node must answer or hang up cleanly,
 * never crash, and never lose or double output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NodeConnection } from "../src/client/connection";
import { controlFrame, encodeFrame, FRAME_CONTROL, Launch, MAX_PAYLOAD, PROTOCOL_VERSION, SessionRef } from "../src/protocol";
import { capture, CwHome, waitFor } from "./helpers";

let cw: CwHome;
let sock: string;
beforeAll(async () => {
  cw = new CwHome();
  await cw.ok(["start"]);
  sock = cw.path("codewire.sock");
});
afterAll(async () => {
  await cw.cleanup();
});

/** Sends raw bytes on a fresh connection and collects what comes back until the node hangs up. */
async function raw(bytes: Uint8Array, waitMs = 2000): Promise<{ text: string; closed: boolean }> {
  let text = "";
  let closed = false;
  const s = await Bun.connect({
    unix: sock,
    socket: {
      data(_s, d) {
        text += Buffer.from(d).toString("latin1");
      },
      close() {
        closed = true;
      },
      error() {
        closed = true;
      },
    },
  });
  s.write(bytes);
  await waitFor(() => closed, "the node to answer and hang up", waitMs).catch(() => {});
  s.end();
  return { text, closed };
}

async function stillServes() {
  const list = await cw.list();
  expect(Array.isArray(list)).toBe(true);
}

describe("bad input", () => {
  test("unknown frame type, oversize frame, broken JSON, unknown request, wrong first frame", async () => {
    const unknownType = await raw(Uint8Array.from([7, 0, 0, 0, 1, 65]));
    expect(unknownType.text).toContain("unknown frame type 7");
    expect(unknownType.closed).toBe(true);

    const header = new Uint8Array(5);
    header[0] = FRAME_CONTROL;
    new DataView(header.buffer).setUint32(1, MAX_PAYLOAD + 1);
    const big = await raw(header);
    expect(big.text).toContain("exceeds");
    expect(big.closed).toBe(true);

    const badJson = await raw(encodeFrame(FRAME_CONTROL, new TextEncoder().encode("{nope")));
    expect(badJson.text).toContain("not valid UTF-8 JSON");

    const unknown = await raw(controlFrame({ type: "FormatDisk" }));
    expect(unknown.text).toContain("unknown_request");

    const invalid = await raw(controlFrame({ type: "Launch", command: [], working_dir: "/" }));
    expect(invalid.text).toContain("bad_request");
    expect(invalid.text).toContain("command");

    const data = await raw(encodeFrame(1, new Uint8Array([1, 2, 3])));
    expect(data.text).toContain("must start with a control frame");

    const version = await raw(controlFrame({ type: "ListSessions", protocol: PROTOCOL_VERSION + 1 }));
    expect(version.text).toContain("version_mismatch");
    expect(version.text).toContain("cw stop && cw start");
    await stillServes();
  });

  test("the node refuses an all-digit session name (a number is an id); references may still be numeric strings", async () => {
    const digits = await raw(controlFrame({ type: "Launch", command: ["true"], name: "123", working_dir: "/" }));
    expect(digits.text).toContain("bad_request");
    expect(digits.text).toContain("numbers are session ids");
    expect((await cw.list()).some((s) => s.name === "123")).toBe(false);
    expect(Launch.safeParse({ type: "Launch", command: ["true"], name: "123" }).success).toBe(false);
    expect(Launch.safeParse({ type: "Launch", command: ["true"], name: "w123" }).success).toBe(true);
    expect(Launch.safeParse({ type: "Launch", command: ["true"], name: "12-3" }).success).toBe(true);
    // "3" as a reference is session 3, as the node has always read it.
    expect(SessionRef.safeParse("3").success).toBe(true);
    await stillServes();
  });

  test("fuzz: thousands of random frames and abrupt disconnects leave the node serving", async () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const types = ["Launch", "Attach", "Kill", "Logs", "SendInput", "GetStatus", "WatchSession", "Subscribe", "Wait", "ListSessions", "Resize", "Nope"];
    let sent = 0;
    for (let round = 0; round < 60; round++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        const r = rand();
        if (r < 0.3) {
          // Random bytes, possibly a valid-looking header.
          const n = Math.floor(rand() * 64);
          chunks.push(Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)));
        } else if (r < 0.7) {
          // Well-framed JSON with random fields and types.
          const msg: Record<string, unknown> = { type: types[Math.floor(rand() * types.length)] };
          if (rand() < 0.5) msg.id = rand() < 0.5 ? Math.floor(rand() * 10) : "x".repeat(Math.floor(rand() * 40));
          if (rand() < 0.3) msg.command = rand() < 0.5 ? "notalist" : [];
          if (rand() < 0.3) msg.cols = rand() < 0.5 ? -5 : 1e9;
          if (rand() < 0.2) msg.timeout_s = -1;
          chunks.push(controlFrame(msg));
        } else {
          chunks.push(encodeFrame(rand() < 0.5 ? 0 : 1, Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))));
        }
        sent++;
      }
      const s = await Bun.connect({ unix: sock, socket: { data() {}, error() {} } });
      for (const c of chunks) s.write(c);
      // Half the time hang up immediately, mid-stream.
      if (rand() < 0.5) s.terminate();
      else s.end();
    }
    expect(sent).toBe(3000);
    await stillServes();
    const id = await cw.launch(["echo", "after-fuzz"]);
    await cw.waitStatus(id, "completed");
    expect(await cw.ok(["logs", String(id)])).toContain("after-fuzz");
  });
});

describe("output integrity", () => {
  /** Reads a stream's data frames until its end message; returns the text. */
  async function collect(c: NodeConnection) {
    let text = "";
    const dec = new TextDecoder();
    for (;;) {
      const f = await c.next();
      if (!f) break;
      if (f.kind === "data") text += dec.decode(f.bytes, { stream: true });
      else if (["StreamEnd", "AttachEnded"].includes((f.message as { type: string }).type)) break;
    }
    return text;
  }

  test("a follower that stops reading loses nothing, slows nobody, and is finished when it catches up", async () => {
    // ~21 MB: far more than socket buffers and the node's per-client high-water mark.
    const lines = 3_000_000;
    const id = await cw.launch(["bash", "-c", `sleep 0.5; seq 1 ${lines}`], ["flood"]);
    const slow = await NodeConnection.open(sock);
    slow.send({ type: "Logs", id, follow: true });
    const fast = await NodeConnection.open(sock);
    fast.send({ type: "Logs", id, follow: true });
    const fastText = collect(fast);
    // The session is not held back by the slow client: it finishes while the slow one sleeps,
    // and the slow one is still behind when it does (the case that must not hang the node).
    await cw.waitStatus(id, "completed", 60_000);
    expect(Array.isArray(await cw.list())).toBe(true);
    const slowText = await collect(slow);
    const expected = Array.from({ length: lines }, (_, i) => String(i + 1)).join("\r\n");
    expect(slowText.trim() === expected).toBe(true);
    expect((await fastText).trim() === expected).toBe(true);
    slow.close();
    fast.close();
  });

  test("an attached terminal that falls far behind is repainted with the current screen, not flooded", async () => {
    const id = await cw.launch(["bash", "-c", "sleep 0.5; seq 1 3000000; echo FINAL-MARK; sleep 1"], ["flood2"]);
    const slow = await NodeConnection.open(sock);
    slow.send({ type: "Attach", id, history: false, cols: 80, rows: 24 });
    await cw.waitStatus(id, "completed", 60_000);
    const text = await collect(slow);
    slow.close();
    // It got a repaint (clear screen) and the end of the output, not the ~21 MB backlog.
    // (Booleans, not toContain: a failure must not print megabytes.)
    expect(text.length).toBeLessThan(12 * 1024 * 1024);
    expect(text.includes("\x1b[2J")).toBe(true);
    expect(text.includes("FINAL-MARK")).toBe(true);
    expect(text.includes("2999999")).toBe(true);
  });

  test("logs --follow joined mid-stream has no gap and no duplicate", async () => {
    const id = await cw.launch(["bash", "-c", "for i in $(seq 1 3000); do echo $i; if (( i % 300 == 0 )); then sleep 0.05; fi; done"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("\n600"), "some output first");
    const out = await cw.ok(["logs", String(id), "--follow"]);
    const nums = out.trim().split(/\r?\n/).map(Number);
    expect(nums).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });
});

describe("events", () => {
  test("subscribe streams created, attached, input, detached, status and output_summary events, filtered", async () => {
    const sub = cw.spawn(["subscribe", "--tag", "ev", "--json"]);
    const out = capture(sub.stdout);
    const err = capture(sub.stderr);
    // The subscription is live once the node has acknowledged it (reported on stderr).
    await waitFor(() => err.text.includes("subscribed"), "subscribe acknowledgement");
    const other = await cw.launch(["true"], ["--tag", "not-ev"]);
    const id = await cw.launch(["bash", "-c", "read x; echo got $x; sleep 0.2"], ["--tag", "ev"]);
    const att = await NodeConnection.open(sock);
    att.send({ type: "Attach", id, history: false, cols: 80, rows: 24 });
    await att.nextReply();
    att.sendData(new TextEncoder().encode("hi\r"));
    await cw.waitStatus(id, "completed");
    att.close();
    const events = await waitFor(() => {
      const evs = out.text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const types = new Set(evs.map((e) => e.type));
      return ["session.created", "session.attached", "session.input", "session.detached", "session.status", "session.output_summary"].every((t) => types.has(t)) ? evs : undefined;
    }, "all event types", 15_000);
    expect(events.every((e: any) => e.session_id === id)).toBe(true);
    expect(events.some((e: any) => e.session_id === other)).toBe(false);
    expect(events.find((e: any) => e.type === "session.status").data).toMatchObject({ status: "completed", exit_code: 0 });
    sub.kill();
    await Promise.all([out.done, err.done]);
  });
});
