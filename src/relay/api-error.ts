/**
 * How the relay's API fails: ApiError thrown anywhere in a handler becomes the JSON body
 * `{ error, message, hint, issues? }` with its status. Shared by the Hono app (app.ts) and the
 * KV routes served before it (routes/kv.ts), so both answer alike.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { RelayError, RelayErrorCode } from "../protocol/relay-api";
import { HttpError } from "../sys/http";

export class ApiError extends HttpError<RelayErrorCode> {
  constructor(
    status: ContentfulStatusCode,
    code: RelayErrorCode,
    message: string,
    hint: string,
    readonly issues?: RelayError["issues"],
  ) {
    super(status, code, message, hint);
  }
}

export function errorBody(e: ApiError): RelayError {
  return { error: e.code, message: e.message, hint: e.hint, ...(e.issues ? { issues: e.issues } : {}) };
}

/** `raw` as `schema` gives it, or a 400 naming the first problem (and listing all of them). */
export function validated<T extends z.ZodType>(schema: T, raw: unknown, what: string): z.output<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  const first = issues[0]!;
  throw new ApiError(400, "bad_request", `${what} is invalid: ${first.path ? `${first.path}: ` : ""}${first.message}`, "correct what the message names and send the request again", issues);
}

/** A JSON body's value; an empty body counts as `{}` so that all-default requests need none. */
export function jsonBody(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "bad_request", `the body is not valid JSON: ${(e as Error).message}`, "send a JSON object with Content-Type: application/json");
  }
}

export const TOKEN_HINT = "send `Authorization: Bearer <token>` with a user token (`cw setup` with the admin token writes one), a node's token, or the relay's admin token";

/** A route that needs a caller, called with no token. */
export const NEEDS_TOKEN = new ApiError(401, "unauthorized", "this needs a token", TOKEN_HINT);

/** A token, but not one of this relay's. */
export const UNKNOWN_TOKEN = new ApiError(
  401,
  "unauthorized",
  "the token is not valid for this relay",
  "the node may have been deleted or its token rotated: register it again (with an invite or the admin token); the admin token is CW_AUTH_TOKEN on the relay",
);
