/** What the handle and mail routes share: who is calling, this relay's host, JSON errors and bodies. */
import { HttpError as TrustApiError } from "../../sys/http";
import type { Context } from "hono";
import type { z } from "zod";
import type { Identity } from "../auth";

/** The handle and mail routes' failure: an HttpError that answer() turns into JSON. */
export { TrustApiError };

/** Runs a handler, answering a TrustApiError as `{ error, message, hint }`. */
export function answer(handler: (c: Context) => Promise<Response> | Response) {
  return async (c: Context) => {
    try {
      return await handler(c);
    } catch (e) {
      if (e instanceof TrustApiError) {
        const retry = (e as { retryAfterS?: number }).retryAfterS;
        if (retry !== undefined) c.header("Retry-After", String(retry));
        return c.json({ error: e.code, message: e.message, hint: e.hint }, e.status);
      }
      throw e;
    }
  };
}

/** The calling node (set by app.ts's /api middleware from its token). */
export function callingNode(c: Context): string {
  const who = c.get("who" as never) as Identity | null;
  if (who?.kind !== "node") throw new TrustApiError(401, "unauthorized", "this needs a node's token", "call it from a node registered with this relay (cw setup); the admin token is not a node");
  return who.name;
}

/** The host handles of this relay end in: that of its public URL (--base-url), else the one the caller used. */
export function relayHost(c: Context, baseUrl: string | undefined): string {
  return new URL(baseUrl ?? c.req.url).host.toLowerCase();
}

export async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new TrustApiError(400, "bad_request", "the body is not JSON", "send a JSON object with Content-Type: application/json");
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new TrustApiError(400, "bad_request", `the body is invalid: ${i.path.join(".")}${i.path.length ? ": " : ""}${i.message}`, "correct what the message names and send it again");
  }
  return r.data;
}
