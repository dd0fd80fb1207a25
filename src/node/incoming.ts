/**
 * Bytes arriving from one client, whatever carries them (the Unix socket or a WebSocket): frames
 * are decoded, the first one is dispatched as the request and later ones go to the request that
 * is streaming. A client that breaks the framing gets an error and is disconnected; nothing it
 * sends can take the node down.
 */
import { FrameError, ProtocolError } from "../protocol";
import type { Connection } from "./connection";
import type { NodeContext } from "./context";
import { dispatch, sendError } from "./dispatch";

export interface ClientState {
  conn: Connection;
  started: boolean;
  broken: boolean;
}

export function clientState(conn: Connection): ClientState {
  return { conn, started: false, broken: false };
}

export function receive(st: ClientState, chunk: Uint8Array, ctx: NodeContext): void {
  if (st.broken) return;
  let frames;
  try {
    frames = st.conn.reader.push(chunk);
  } catch (e) {
    const err = e instanceof FrameError ? new ProtocolError("bad_request", `malformed frame: ${e.message}`) : e;
    refuse(st, err, ctx);
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
}

/** The stream cannot be resynchronised: say why, then hang up. */
export function refuse(st: ClientState, err: unknown, ctx: NodeContext): void {
  st.broken = true;
  st.conn.onFrame = undefined;
  sendError(st.conn, err, ctx);
}
