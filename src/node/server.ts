/**
 * The node's Unix socket: accepts local clients and hands their bytes to incoming.ts. The
 * socket file is created without access for anybody but its owner.
 */
import { chmodSync, unlinkSync } from "node:fs";
import { Connection } from "./connection";
import type { NodeContext } from "./context";
import { type ClientState, clientState, receive } from "./incoming";

export function listen(socketPath: string, ctx: NodeContext) {
  try {
    unlinkSync(socketPath);
  } catch {
    /* no stale socket */
  }
  // Create the socket file with no access for others from the first instant.
  const oldMask = process.umask(0o177);
  let server: ReturnType<typeof Bun.listen<ClientState>>;
  try {
    server = Bun.listen<ClientState>({
      unix: socketPath,
      socket: {
        open(socket) {
          socket.data = clientState(Connection.fromSocket(socket));
        },
        data(socket, chunk) {
          receive(socket.data, chunk, ctx);
        },
        drain(socket) {
          socket.data.conn.drained();
        },
        close(socket) {
          socket.data.conn.closedByPeer();
        },
        error(socket, err) {
          ctx.log(`socket error: ${err.message}`);
          socket.data?.conn.closedByPeer();
        },
      },
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(socketPath, 0o600);
  return server;
}
