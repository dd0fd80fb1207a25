/**
 * A key of the shared key-value store: GET (and HEAD), PUT and DELETE
 * /api/v1/kv/<ns>/<key>. The busiest routes of the relay, so they are answered straight from the
 * Request, before Hono's router and middleware (app.ts sends them here): the same identify, the
 * same body limit, schemas and error bodies, for about a third less CPU per request.
 *
 * A key is the rest of the path after the namespace, percent-decoded as Hono decodes a
 * parameter: clients encode it as one segment (relayKvPath), and an unencoded "/" also belongs
 * to the key, so "a%2Fb" and "a/b" name the same key.
 */
import { getPath, tryDecodeURIComponent } from "hono/utils/url";
import type { z } from "zod";
import {
  KV_MAX_VALUE_BYTES,
  KV_PUT_MAX_BODY_BYTES,
  KvDeleteRequest,
  type KvDeleteResponse,
  type KvGetResponse,
  KvPutRequest,
  type KvPutResponse,
  RelayKvKey,
  RelayKvNamespace,
} from "../../protocol/relay-api";
import { ApiError, errorBody, jsonBody, NEEDS_TOKEN, validated } from "../api-error";
import type { Identity } from "../auth";
import { type RelayKv, StoreUnavailableError } from "../store/interface";

const PREFIX = "/api/v1/kv/";
const METHODS = new Set(["GET", "HEAD", "PUT", "DELETE"]);

const TOO_LARGE_HINT = "store large data elsewhere and put a reference to it in the key-value store";
const TOO_LARGE = new ApiError(413, "too_large", `a value is at most ${KV_MAX_VALUE_BYTES} bytes of UTF-8`, TOO_LARGE_HINT);

/** Whether `req` is one of these routes; anything else under /api/v1/kv (a listing, another method) is Hono's. */
export function isKvKeyPath(req: Request): boolean {
  // Cheap before exact: most requests are not for the KV at all.
  if (!req.url.includes(PREFIX) || !METHODS.has(req.method)) return false;
  return split(getPath(req)) !== null;
}

/** `/api/v1/kv/<ns>/<key>` as its two raw (still encoded) segments, or null. */
function split(path: string): [string, string] | null {
  if (!path.startsWith(PREFIX)) return null;
  const slash = path.indexOf("/", PREFIX.length);
  if (slash <= PREFIX.length || slash === path.length - 1) return null;
  return [path.slice(PREFIX.length, slash), path.slice(slash + 1)];
}

export interface KvRouteDeps {
  kv: RelayKv;
  /** The caller behind an Authorization header (app.ts): null without one, 401 for an unknown one. */
  identify: (authorization: string | null) => Promise<Identity | null>;
}

export function kvKeyRoutes({ kv, identify }: KvRouteDeps): (req: Request) => Promise<Response> {
  async function route(req: Request): Promise<Response> {
    const who = await identify(req.headers.get("authorization"));
    const length = req.headers.get("content-length");
    if (length !== null && !req.headers.has("transfer-encoding") && Number.parseInt(length, 10) > KV_PUT_MAX_BODY_BYTES) throw TOO_LARGE;
    if (!who) throw NEEDS_TOKEN;
    const [rawNs, rawKey] = split(getPath(req))!;
    const ns = validated(RelayKvNamespace, tryDecodeURIComponent(rawNs), "the ns in the path");
    const key = validated(RelayKvKey, tryDecodeURIComponent(rawKey), "the key in the path");
    switch (req.method) {
      case "PUT": {
        const body = await putBody(req);
        const ifAbsent = body.if_absent === true || req.headers.get("if-none-match")?.trim() === "*";
        const r = await kv.set(ns, key, body.value, body.ttl_s, { ifAbsent });
        if (!r.stored && r.reason === "exists") throw new ApiError(412, "precondition_failed", `key ${JSON.stringify(key)} in namespace ${ns} is already set`, "it was set only if absent; read it with GET, or wait for its TTL to pass");
        if (!r.stored) {
          const what = r.limit === "keys" ? `${r.quota.keys} keys` : `${r.quota.bytes} bytes of values`;
          throw new ApiError(429, "over_quota", `namespace ${ns} would hold more than ${what}`, "delete keys you no longer need, give temporary keys a TTL, or use another namespace");
        }
        return json({ ok: true } satisfies KvPutResponse);
      }
      case "DELETE": {
        const body = validated(KvDeleteRequest, jsonBody(await text(req)), "the body");
        return json({ deleted: await kv.delete(ns, key, body.if_value !== undefined ? { ifValue: body.if_value } : {}) } satisfies KvDeleteResponse);
      }
      default: {
        const entry = await kv.get(ns, key);
        if (!entry) throw new ApiError(404, "not_found", `no key ${JSON.stringify(key)} in namespace ${ns}`, "it may never have been set, or its TTL passed; list the namespace with GET /api/v1/kv/<ns>?prefix=");
        return json({ entry } satisfies KvGetResponse);
      }
    }
  }

  return async (req) => {
    let res: Response;
    try {
      res = await route(req);
    } catch (e) {
      res = failure(e);
    }
    // HEAD: what GET would answer, without its body (as Hono answers HEAD).
    return req.method === "HEAD" ? new Response(null, { status: res.status, headers: res.headers }) : res;
  };
}

/**
 * A PUT's value: a JSON object as KvPutRequest (Content-Type JSON, or none, as older clients
 * send), or else the raw body, its TTL in X-TTL. A value over the limit is 413 either way.
 */
async function putBody(req: Request): Promise<z.output<typeof KvPutRequest>> {
  const type = (req.headers.get("content-type") ?? "application/json").toLowerCase();
  let raw: unknown;
  if (type.startsWith("application/json")) raw = jsonBody(await text(req));
  else {
    const ttl = req.headers.get("x-ttl");
    raw = { value: await text(req), ...(ttl !== null ? { ttl_s: ttl.trim() === "" ? Number.NaN : Number(ttl) } : {}) };
  }
  const value = (raw as { value?: unknown } | null)?.value;
  if (typeof value === "string" && Buffer.byteLength(value) > KV_MAX_VALUE_BYTES) {
    throw new ApiError(413, "too_large", `a value is at most ${KV_MAX_VALUE_BYTES} bytes of UTF-8; this one is ${Buffer.byteLength(value)}`, TOO_LARGE_HINT);
  }
  return validated(KvPutRequest, raw, "the body");
}

/** The body as text, refused (413) past KV_PUT_MAX_BODY_BYTES also when no Content-Length said so. */
async function text(req: Request): Promise<string> {
  if (!req.body) return "";
  if (req.headers.has("content-length") && !req.headers.has("transfer-encoding")) return req.text();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > KV_PUT_MAX_BODY_BYTES) throw TOO_LARGE;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** As app.ts's onError: an ApiError as itself, an unreachable database 503, anything else 500. */
function failure(e: unknown): Response {
  if (e instanceof ApiError) return json(errorBody(e), e.status);
  if (e instanceof StoreUnavailableError) return json(errorBody(new ApiError(503, "unavailable", e.message, e.hint)), 503);
  return json(errorBody(new ApiError(500, "internal", `the relay failed: ${(e as Error).message}`, "try again; if it persists, the relay's log has the cause")), 500);
}
