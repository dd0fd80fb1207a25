/**
 * `cw web`'s WebSocket for a browser terminal: the browser speaks `cw attach`'s frames as a
 * relay's client does (a control frame as a text message, data as binary), and this pipes them
 * to the node over an ordinary client connection. The first message must be an Attach and later
 * control messages an attach's own (Resize, Detach, EndInput): this socket attaches, nothing else.
 */
import type { ServerWebSocket } from "bun";
import type { NodeConnection } from "../client/connection";
import { Attach, AttachControl } from "../protocol/requests";

/** Stop reading the node while the browser has this much unsent. */
const HIGH_WATER = 1024 * 1024;

export interface PipeState {
  conn?: Promise<NodeConnection>;
  attached: boolean;
  closed: boolean;
  /** Resolves when the browser's socket drains. */
  drained?: () => void;
}

export function newPipeState(): PipeState {
  return { attached: false, closed: false };
}

export function onBrowserMessage(ws: ServerWebSocket<PipeState>, msg: string | Uint8Array, dial: () => Promise<NodeConnection>): void {
  const st = ws.data;
  if (!st.attached) {
    const first = typeof msg === "string" ? Attach.safeParse(parse(msg)) : undefined;
    if (!first?.success) return refuse(ws, "the first message must be an Attach request");
    st.attached = true;
    st.conn = dial();
    st.conn.then(
      (conn) => {
        if (st.closed) return conn.close();
        conn.send(first.data);
        void pump(ws, conn);
      },
      (e: Error & { hint?: string }) => refuse(ws, e.message, e.hint),
    );
    return;
  }
  void st.conn?.then((conn) => {
    if (typeof msg !== "string") return conn.sendData(msg);
    if (AttachControl.safeParse(parse(msg)).success) conn.sendControl(JSON.parse(msg));
  });
}

export function onBrowserClose(ws: ServerWebSocket<PipeState>): void {
  ws.data.closed = true;
  ws.data.drained?.();
  void ws.data.conn?.then((c) => c.close(), () => {});
}

export function onBrowserDrain(ws: ServerWebSocket<PipeState>): void {
  ws.data.drained?.();
}

/** The node's frames to the browser, as messages, until either side ends. */
async function pump(ws: ServerWebSocket<PipeState>, conn: NodeConnection): Promise<void> {
  try {
    for (;;) {
      const f = await conn.next();
      if (!f || ws.data.closed) break;
      ws.send(f.kind === "control" ? JSON.stringify(f.message) : f.bytes);
      // A slow browser: wait for it, and the node serves it from the log once it catches up.
      while (!ws.data.closed && ws.getBufferedAmount() > HIGH_WATER) await new Promise<void>((r) => (ws.data.drained = r));
    }
  } catch {
    /* the node's connection broke: closing the socket says so */
  }
  conn.close();
  if (!ws.data.closed) ws.close(1000, "the node ended the stream");
}

function refuse(ws: ServerWebSocket<PipeState>, message: string, hint = "attach from the web app's terminal page"): void {
  if (ws.data.closed) return;
  ws.send(JSON.stringify({ type: "Error", code: "bad_request", message, hint }));
  ws.close(1008, "refused");
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
