/**
 * The node's write queue (node/connection.ts) toward a slow transport: every byte arrives, in
 * order, although each buffer written is freed right after write() returns (as the Bun PTY's
 * chunks are: pty/bun-terminal.ts), and a transport that takes whole messages only is handed
 * whole frames.
 */
import { describe, expect, test } from "bun:test";
import { Connection } from "../src/node/connection";
import { dataFrame, FrameReader } from "../src/protocol/frame";

/** A transport taking at most `step` bytes per write, and nothing until drained() is called again. */
function slowTransport(step: number) {
  const got: number[] = [];
  let open = true;
  return {
    got,
    reopen: () => {
      open = true;
    },
    transport: {
      write(bytes: Uint8Array): number {
        if (!open) return 0;
        const n = Math.min(step, bytes.length);
        for (let i = 0; i < n; i++) got.push(bytes[i]!);
        open = false;
        return n;
      },
      end() {},
    },
  };
}

function freed(bytes: Uint8Array): void {
  (bytes.buffer as ArrayBuffer).transfer(0);
}

describe("Connection", () => {
  test("a slow transport gets every byte in order, though each buffer is freed once written", () => {
    const t = slowTransport(1000);
    const conn = new Connection(t.transport);
    const sent: number[] = [];
    let x = 1;
    for (let i = 0; i < 400; i++) {
      const chunk = new Uint8Array(1 + ((i * 7919) % 40_000));
      for (let j = 0; j < chunk.length; j++) chunk[j] = x = (x * 31 + 7) & 0xff;
      sent.push(...chunk);
      conn.write(chunk);
      freed(chunk);
      // Drained now and then: the queue grows, wraps its buffer's end and shrinks again.
      if (i % 3 === 0) {
        for (let k = 0; k < 20; k++) {
          t.reopen();
          conn.drained();
        }
      }
    }
    // Bounded: a queue that lost bytes may never drain.
    for (let k = 0; conn.pendingBytes > 0 && k < 100_000; k++) {
      t.reopen();
      conn.drained();
    }
    expect(t.got.length).toBe(sent.length);
    expect(Buffer.from(t.got).equals(Buffer.from(sent))).toBe(true);
  });

  test("a transport that takes whole messages or nothing is handed whole frames after a backlog", () => {
    const reader = new FrameReader();
    const payloads: number[] = [];
    let open = false;
    const conn = new Connection({
      write(bytes) {
        if (!open) return 0;
        // Every frame in what it is handed must be whole: FrameReader would keep a part.
        for (const f of reader.push(bytes)) if (f.kind === "data") payloads.push(f.bytes.length);
        return bytes.length;
      },
      end() {},
    });
    const sizes = [5, 70_000, 1, 300_000, 12, 65_536];
    for (const n of sizes) {
      const frame = dataFrame(new Uint8Array(n).fill(n & 0xff));
      conn.write(frame);
      freed(frame);
    }
    open = true;
    conn.drained();
    expect(payloads).toEqual(sizes);
    expect(conn.pendingBytes).toBe(0);
  });
});
