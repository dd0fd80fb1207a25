import type { ContentfulStatusCode } from "hono/utils/http-status";
/** What every HTTP listener of ours shares (the node's WebSocket listener, the relay). */

/** A refusal as JSON: a code to branch on, what happened, and what to do next. */
export function refusal(status: number, error: string, message: string, hint: string): Response {
  return Response.json({ error, message, hint }, { status });
}

/**
 * Bun.serve options every listener sets. Never Bun's development error page: it shows source
 * code to whoever sent the request. And no shared port: with development off, Bun turns on
 * SO_REUSEPORT unless told otherwise, and a second process on the port takes half the
 * connections.
 */
export function listenerOptions(who: string, hint: string) {
  return {
    development: false,
    reusePort: false,
    error: (err: Error) => refusal(500, "internal", `${who} failed: ${err.message}`, hint),
  };
}

/**
 * An HTTP failure thrown anywhere in a handler, for the listener's error handler to answer as
 * `{ error, message, hint }` (the relay's API, its handle and mail routes, the web app).
 */
export class HttpError<Code extends string = string> extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: Code,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}
