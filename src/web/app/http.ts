/**
 * The app's calls to its server: the cookie goes by itself, the CSRF token is added to every
 * request that changes something, and every reply is checked against its schema (../api.ts)
 * before the app uses it.
 */
import type { z } from "zod";
import { CSRF_HEADER, WebError } from "../api";

let csrf = "";

export function setCsrf(token: string): void {
  csrf = token;
}

/** A refusal or failure from the server, with its hint. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export async function api<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.output<S>> {
  const res = await send(method, path, body);
  const json: unknown = await res.json().catch(() => undefined);
  const r = schema.safeParse(json);
  if (!r.success) throw new ApiFailure(res.status, "bad_reply", `the server's reply to ${method} ${path} is not what this page expects`, "reload the page: the server may have been upgraded");
  return r.data;
}

export async function text(path: string): Promise<string> {
  return (await send("GET", path)).text();
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (method !== "GET") headers[CSRF_HEADER] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiFailure(0, "unreachable", "the server does not answer", "is cw web (or the relay) still running?");
  }
  if (res.ok) return res;
  const e = WebError.safeParse(await res.json().catch(() => undefined));
  throw e.success ? new ApiFailure(res.status, e.data.error, e.data.message, e.data.hint) : new ApiFailure(res.status, "http", `HTTP ${res.status}`, "try again");
}
