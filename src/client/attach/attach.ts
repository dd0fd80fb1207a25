/**
 * `cw attach`: bridges the user's terminal to a session as raw bytes, so scrolling and copying
 * are the terminal's own. Ctrl+B then d detaches; the window size follows the terminal.
 *
 * Terminal I/O bypasses process.stdin/stdout: keys come from Bun.stdin's stream and output goes
 * out with blocking write(2) calls. Measured as an echo between two PTYs on 2 cores, that path
 * costs p50 275 / p99 446 µs where the Node streams cost 333 / 1096 µs, and a blocking write
 * is natural backpressure: while the terminal is slow we stop reading the node's socket.
 */
import { readlinkSync } from "node:fs";
import { dataDir } from "../../config/paths";
import { isatty, writeAllSync } from "../../sys/libc";
import type { ReplyOf, SessionRef } from "../../protocol";
import { EOT } from "../../protocol/constants";
import { connectNode } from "../autostart";
import { checkReply } from "../errors";
import { NodeError } from "../errors";
import { DetachKeys } from "../../protocol/detach-keys";
import { startNotices } from "./notices";
import { enterRaw, SAVE_TITLE, terminalSize } from "./terminal";
import { terminalId } from "./terminal-id";

export type AttachOutcome = {
  reason: "detached" | "exited" | "killed" | "node_stopping" | "disconnected";
  session?: ReplyOf<"Attached">["session"];
  /** For "disconnected": why the link failed, when it said (e.g. the relay replica went away). */
  why?: string;
};

const ESC_TIMEOUT_MS = 50;
/** How long Ctrl+B d waits for the node to confirm before detaching anyway. */
const DETACH_CONFIRM_MS = 2000;

export async function attach(id: SessionRef, opts: { history: boolean; root?: string }): Promise<AttachOutcome> {
  const conn = await connectNode(opts.root ?? dataDir());
  // Only a node on this machine can open our terminal by its path (elsewhere the same path
  // would be some other terminal).
  const tty = conn.local ? ownTerminal() : undefined;
  const terminal_id = process.platform === "linux" ? terminalId() : undefined;
  // Before anything of the session's reaches the terminal (over the socket or a lane): a lane
  // paints and reads keys as soon as the node has the screen, perhaps before we would have read
  // the node's answer, and a key typed then would be echoed by a terminal still in cooked mode.
  if (isatty(1)) writeAllSync(1, new TextEncoder().encode(SAVE_TITLE));
  const restore = enterRaw();
  // Resizes are watched from before the attach: one that lands while the node paints (a lane
  // may have painted before we read its answer) would otherwise be lost, and the session keep
  // the old size. Until the node has answered, only the size is noted.
  let sentSize = terminalSize();
  let attached = false;
  const onResize = () => {
    if (!attached) return;
    sentSize = terminalSize();
    conn.sendControl({ type: "Resize", ...sentSize });
  };
  process.on("SIGWINCH", onResize);
  const refused = (e: unknown): never => {
    process.off("SIGWINCH", onResize);
    restore("");
    throw e;
  };
  conn.send({ type: "Attach", id, history: opts.history, ...sentSize, ...(tty ? { tty } : {}), ...(terminal_id ? { terminal_id } : {}) });
  const first = await conn.nextReply().catch(refused);
  if (!first || first.type !== "Attached") return refused(new NodeError("internal", "the node did not accept the attach", "try again, or see node.log"));
  attached = true;
  const size = terminalSize();
  if (size.cols !== sentSize.cols || size.rows !== sentSize.rows) onResize();
  let session = first.session;
  // The node serves our terminal itself (a lane): keys and output skip this process, which
  // keeps the terminal's mode and size and waits for the end (or for LaneEnded).
  let lane = first.lane === true;
  // A program on pipes has no terminal to turn Enter into a newline or to echo: do the first
  // here (as a terminal's line discipline would), and say that typing is blind. (Its bare LFs
  // need nothing: our terminal's raw mode keeps output processing, ONLCR, on.)
  const onPipes = session.terminal === false; // absent from older nodes: a terminal
  let pipesNote = onPipes
    ? `[cw] session ${session.id} runs on pipes, not a terminal: what you type is not echoed; Enter sends a newline, Ctrl+D ends its input\r\n`
    : "";
  const showNote = () => {
    if (pipesNote) writeAllSync(2, new TextEncoder().encode(pipesNote));
    pipesNote = "";
  };
  // The screen painted on attach starts by clearing it: the note comes after that paint.
  if (!opts.history) showNote();

  const keys = new DetachKeys();
  let escTimer: ReturnType<typeof setTimeout> | undefined;
  let detachTimer: ReturnType<typeof setTimeout> | undefined;
  let outcome: AttachOutcome | undefined;
  /** What the node sends to leave the terminal clean (AttachEnded.restore). */
  let restoreFromNode: string | undefined;

  // On pipes, Ctrl+D plays the part of a terminal's end of file: what came before it goes, then
  // the program's stdin is closed (EndInput). Nothing typed after that can reach the program.
  let inputEnded = false;
  const forward = (bytes: Uint8Array) => {
    if (!onPipes) return conn.sendData(bytes);
    if (inputEnded) return;
    const eot = bytes.indexOf(EOT[0]!);
    const before = (eot < 0 ? bytes : bytes.subarray(0, eot)).map((b) => (b === 0x0d ? 0x0a : b));
    if (before.length) conn.sendData(before);
    if (eot < 0) return;
    inputEnded = true;
    conn.sendControl({ type: "EndInput" });
  };

  const onInput = (chunk: Uint8Array) => {
    if (escTimer) clearTimeout(escTimer);
    const r = keys.feed(chunk);
    if (r.forward.length) forward(r.forward);
    if (r.detach) {
      conn.sendControl({ type: "Detach" });
      // The node confirms at once; when it cannot (a dead network path to a remote node), the
      // user still gets their terminal back.
      detachTimer ??= setTimeout(() => {
        outcome ??= { reason: "detached", session };
        conn.close();
      }, DETACH_CONFIRM_MS);
      return;
    }
    if (keys.holding) {
      escTimer = setTimeout(() => {
        const held = keys.flushPending();
        if (held.length) forward(held);
      }, ESC_TIMEOUT_MS);
    }
  };
  // Killed or hung up: detach properly so the node counts us gone and the terminal is restored.
  const onSignal = () => {
    conn.sendControl({ type: "Detach" });
    setTimeout(() => conn.close(), 200).unref?.();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  let keyboard: ReturnType<ReadableStream<Uint8Array>["getReader"]> | undefined;
  let reading = true;
  const readKeys = () => {
    const reader = (keyboard = Bun.stdin.stream().getReader());
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || !reading) break;
          onInput(value);
        }
      } catch {
        /* stdin closed */
      }
    })();
  };
  if (!lane) readKeys();
  // Other sessions' agents needing input or done (CODEWIRE_NOTICES=0: none).
  const stopNotices = startNotices(opts.root ?? dataDir(), session.id);

  try {
    for (;;) {
      const f = await conn.next();
      if (!f) break;
      if (f.kind === "data") {
        try {
          writeAllSync(1, f.bytes);
          showNote();
        } catch {
          // The terminal is gone (hung up, closed): leave the session as a detach would.
          conn.sendControl({ type: "Detach" });
          outcome = { reason: "disconnected", session };
          break;
        }
        continue;
      }
      const m = checkReply(f.message as never);
      if (m.type === "LaneEnded" && lane) {
        lane = false;
        readKeys();
        continue;
      }
      if (m.type === "AttachEnded") {
        outcome = { reason: m.reason, session: m.session };
        session = m.session;
        restoreFromNode = m.restore;
        break;
      }
    }
  } finally {
    stopNotices();
    reading = false;
    if (escTimer) clearTimeout(escTimer);
    if (detachTimer) clearTimeout(detachTimer);
    void keyboard?.cancel().catch(() => {});
    process.off("SIGWINCH", onResize);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    restore(restoreFromNode);
    conn.close();
  }
  return outcome ?? { reason: "disconnected", session, ...(conn.failedWith ? { why: conn.failedWith.message } : {}) };
}

/**
 * The terminal this process runs on, when stdin and stdout are the same one (Linux): the node
 * on this machine may then serve it directly. CODEWIRE_LANES=0 keeps everything on the socket.
 */
function ownTerminal(): string | undefined {
  if (process.platform !== "linux" || process.env.CODEWIRE_LANES === "0") return undefined;
  try {
    const input = readlinkSync("/proc/self/fd/0");
    return input.startsWith("/dev/") && readlinkSync("/proc/self/fd/1") === input ? input : undefined;
  } catch {
    return undefined;
  }
}
