/**
 * Bytes arriving from one client, whatever carries them (the Unix socket or a WebSocket): frames
 * are decoded, the first one is dispatched as the request and later ones go to the request that
 * is streaming. A client that breaks the framing gets an error and is disconnected; nothing it
 * sends can take the node down.
 */
import { type Frame, FrameError, ProtocolError, type RequestType } from "../protocol";
import type { Connection } from "./connection";
import type { NodeContext } from "./context";
import { dispatch, READ_ONLY_REQUESTS, sendError } from "./dispatch";

export interface ClientState {
  conn: Connection;
  started: boolean;
  broken: boolean;
  /** Frames that came after the request while it waits for its turn (see receive). */
  held?: Frame[];
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
      st.held = [];
      // A request that changes something runs on the next turn of the event loop, not now: a
      // client that went away before the node read its request (killed while the node was
      // stopped or busy) has its hang-up already waiting behind the request's bytes, and it is
      // seen by then. Its request is dropped unrun, so nothing happens that nobody is waiting for
      // (a launch, a kill). One that only reads runs at once: for a gone client it would only
      // answer nobody, and `cw list` polled by an agent is spared the turn.
      if (onlyReads(f)) start(st, f, ctx);
      else setImmediate(() => start(st, f, ctx));
    } else if (st.held) st.held.push(f);
    else deliver(st, f, ctx);
  }
}

function start(st: ClientState, request: Frame, ctx: NodeContext): void {
  const held = st.held ?? [];
  st.held = undefined;
  if (st.conn.closed) {
    ctx.log(`a client left before its request was read; not running it (${describe(request)})`);
    return;
  }
  void dispatch(request, st.conn, ctx);
  for (const f of held) deliver(st, f, ctx);
}

function onlyReads(f: Frame): boolean {
  return f.kind === "control" && READ_ONLY_REQUESTS.has((f.message as { type?: unknown } | null)?.type as RequestType);
}

function deliver(st: ClientState, f: Frame, ctx: NodeContext): void {
  if (!st.conn.onFrame) return;
  try {
    st.conn.onFrame(f);
  } catch (e) {
    ctx.log(`stream frame handler failed: ${(e as Error).message}`);
  }
}

function describe(f: Frame): string {
  const type = f.kind === "control" ? (f.message as { type?: unknown } | null)?.type : undefined;
  return typeof type === "string" ? type : "a request";
}

/** The stream cannot be resynchronised: say why, then hang up. */
export function refuse(st: ClientState, err: unknown, ctx: NodeContext): void {
  st.broken = true;
  st.conn.onFrame = undefined;
  sendError(st.conn, err, ctx);
}
