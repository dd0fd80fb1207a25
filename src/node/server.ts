/**
 * The node's Unix socket: accepts connections, decodes frames, hands the first one to the
 * request table and later ones to the request that is streaming. A client that breaks the
 * framing gets an error and is disconnected; nothing it sends can take the node down.
 */
import { chmodSync, unlinkSync } from "node:fs";
import { FrameError, ProtocolError } from "../protocol";
import { Connection } from "./connection";
import type { NodeContext } from "./context";
import { dispatch, sendError } from "./dispatch";

export function listen(socketPath: string, ctx: NodeContext) {
  try {
    unlinkSync(socketPath);
  } catch {
    /* no stale socket */
  }
  // Create the socket file with no access for others from the first instant.
  const oldMask = process.umask(0o177);
  let server: ReturnType<typeof Bun.listen<{ conn: Connection; started: boolean; broken: boolean }>>;
  try {
    server = Bun.listen<{ conn: Connection; started: boolean; broken: boolean }>({
      unix: socketPath,
      socket: {
        open(socket) {
          socket.data = { conn: Connection.fromSocket(socket), started: false, broken: false };
        },
        data(socket, chunk) {
          const st = socket.data;
          if (st.broken) return;
          let frames;
          try {
            frames = st.conn.reader.push(chunk);
          } catch (e) {
            const err = e instanceof FrameError ? new ProtocolError("bad_request", `malformed frame: ${e.message}`) : e;
            // The stream cannot be resynchronised: say why, then hang up.
            st.broken = true;
            st.conn.onFrame = undefined;
            sendError(st.conn, err, ctx);
            return;
          }
          for (const f of frames) {
            if (!st.started) {
              st.started = true;
              void dispatch(f, st.conn, ctx);
            } else if (st.conn.onFrame) {
              try {
                st.conn.onFrame(f);
              } catch (e) {
                ctx.log(`stream frame handler failed: ${(e as Error).message}`);
              }
            }
          }
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
