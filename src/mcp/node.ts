/**
 * Talking to the node from a tool: one-shot calls come straight from the node client; streams
 * (logs, watch, subscribe, wait, request) go through `stream`, which ends them at a deadline or
 * when the client cancels the tool call, so no tool can hang.
 */
import { checkReply } from "../client/errors";
import { NodeError } from "../client/errors";
import { open } from "../client/node-client";
import type { Frame, Reply, RequestInput, RequestType } from "../protocol";
import type { ToolContext } from "./tool";

export { call } from "../client/node-client";

export type StreamEnd = "closed" | "stopped" | "deadline" | "cancelled";

/**
 * Sends `req` and hands every frame to `onFrame` (Error replies are thrown as NodeError) until
 * the node closes the stream ("closed"), `onFrame` returns true ("stopped"), `limitMs` passes
 * ("deadline") or the call is cancelled ("cancelled").
 */
export async function stream<T extends RequestType>(
  req: RequestInput<T>,
  ctx: ToolContext,
  limitMs: number,
  onFrame: (f: Frame, reply?: Reply) => boolean | void,
): Promise<StreamEnd> {
  const conn = await open(req);
  let why: StreamEnd | undefined;
  const stop = (w: StreamEnd) => {
    why ??= w;
    conn.close();
  };
  const timer = setTimeout(() => stop("deadline"), limitMs);
  const onAbort = () => stop("cancelled");
  ctx.signal.addEventListener("abort", onAbort);
  if (ctx.signal.aborted) onAbort();
  try {
    for (;;) {
      const f = await conn.next();
      if (!f) return why ?? "closed";
      const reply = f.kind === "control" ? checkReply(f.message as Reply) : undefined;
      if (onFrame(f, reply)) {
        stop("stopped");
        return "stopped";
      }
    }
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
    conn.close();
  }
}

/** Sends `req` and returns its single reply of type `expect`, within `limitMs`. */
export async function awaitReply<T extends RequestType, R extends Reply["type"]>(req: RequestInput<T>, expect: R, ctx: ToolContext, limitMs: number): Promise<Extract<Reply, { type: R }> | StreamEnd> {
  let got: Reply | undefined;
  const end = await stream(req, ctx, limitMs, (_f, r) => {
    if (!r) return false;
    got = r;
    return true;
  });
  if (!got) return end === "stopped" ? "closed" : end;
  if (got.type !== expect) throw new NodeError("internal", `expected ${expect}, the node sent ${got.type}`, "restart the node: `cw stop && cw start`");
  return got as Extract<Reply, { type: R }>;
}
