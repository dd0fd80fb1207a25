/**
 * `bun floor-relay.ts <socket>`: the least a Bun node can do for an attached terminal. It runs
 * the echo program on Bun's own PTY and relays raw bytes between it and one client on a Unix
 * socket: no frames, no output log, no screen emulator, no events. With floor-attach.ts it is
 * the "bun floor" of the latency benchmark: what two Bun processes on the keystroke's path cost
 * on this machine before any of cw's work, so the gap between cw and tmux can be split into the
 * runtime's share and ours.
 */
import { unlinkSync } from "node:fs";
import { ECHO_PROGRAM } from "./latency";
import { COLS, ROWS } from "./subjects";

const path = process.argv[2];
if (!path) throw new Error("usage: bun floor-relay.ts <socket>");
try {
  unlinkSync(path);
} catch {
  /* no stale socket */
}
let client: Bun.Socket | undefined;
const program = Bun.spawn(ECHO_PROGRAM, {
  terminal: { cols: COLS, rows: ROWS, data: (_t, chunk) => void client?.write(chunk) },
});
Bun.listen({
  unix: path,
  socket: {
    open: (s) => void (client = s),
    data: (_s, bytes) => void program.terminal!.write(bytes),
    close: () => void (client = undefined),
  },
});
// The benchmark waits for this line before it starts the client.
console.log("ready");
