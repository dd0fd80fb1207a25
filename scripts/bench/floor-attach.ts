/**
 * `bun floor-attach.ts <socket>`: the least a Bun attach client can do, the partner of
 * floor-relay.ts. Keys from Bun.stdin's stream go to the socket as they are, bytes from the
 * socket go to the terminal as they are (the same I/O calls `cw attach` uses, without frames).
 */
import { writeAllSync } from "../../src/sys/libc";

const path = process.argv[2];
if (!path) throw new Error("usage: bun floor-attach.ts <socket>");
process.stdin.setRawMode?.(true);
const socket = await Bun.connect({
  unix: path,
  socket: {
    data: (_s, bytes) => writeAllSync(1, bytes),
    close: () => process.exit(0),
  },
});
// Attach clients paint when they start; the benchmark waits for the first output.
writeAllSync(1, new TextEncoder().encode("floor attached\r\n"));
const keys = Bun.stdin.stream().getReader();
for (;;) {
  const { done, value } = await keys.read();
  if (done) break;
  socket.write(value);
}
process.exit(0);
