/**
 * The relay's HTTP API (`/healthz`, `/api/v1/...`): every request and response body. The relay
 * validates with these and the CLI parses replies with them, so both ends agree by construction.
 * Request types are the zod *input* (what a client sends; defaults may be left out).
 */
import { z } from "zod";
import { NODE_NAME_RE } from "./constants";
import { KV_MAX_VALUE_BYTES, KVEntry, KvTtl, KvValue } from "./messages";

export { KV_MAX_VALUE_BYTES, NODE_NAME_RE };
export const NodeName = z.string().regex(NODE_NAME_RE, { message: "a node name is 1-63 letters, digits and -, starting with a letter or digit" });

/**
 * Largest request body the relay reads, but for a KV value (KV_PUT_MAX_BODY_BYTES); bigger ones
 * get 413 before they are parsed.
 */
export const RELAY_MAX_BODY_BYTES = 64 * 1024;

export const RELAY_ERROR_CODES = [
  "bad_request",
  "unauthorized",
  "invalid_invite",
  "forbidden",
  "not_found",
  "name_taken",
  "too_large",
  "too_many",
  "denied",
  "expired",
  "precondition_failed",
  "over_quota",
  "timeout",
  "internal",
  /** The relay cannot reach its database just now (503); it recovers by itself. */
  "unavailable",
] as const;
export const RelayErrorCode = z.enum(RELAY_ERROR_CODES);
export type RelayErrorCode = z.infer<typeof RelayErrorCode>;

/** Every error: a code to branch on, a message, and a hint at what to do next. */
export const RelayError = z.object({
  error: RelayErrorCode,
  message: z.string(),
  hint: z.string(),
  /** For bad_request: what failed validation, one entry per problem. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type RelayError = z.infer<typeof RelayError>;

export const RelayHealth = z.object({ ok: z.literal(true), version: z.string() });
export type RelayHealth = z.infer<typeof RelayHealth>;
/**
 * GET /readyz, 200 when the relay can serve: its database answers and its schema is migrated
 * (for load balancers and Kubernetes readiness probes). Otherwise 503 with a RelayError
 * (`unavailable`) saying why; /healthz (liveness) stays 200 meanwhile.
 */
export const RelayReady = z.object({ ok: z.literal(true), version: z.string(), database: z.enum(["sqlite", "postgres"]) });
export type RelayReady = z.infer<typeof RelayReady>;

// Nodes

/**
 * POST /api/v1/nodes, with the admin token, or with no token and an invite. With the admin token
 * `user_token: true` also issues a user token named after the node, for that machine's CLI
 * (`cw setup` by the owner); an invite gives a node token only.
 */
export const RegisterNodeRequest = z.object({ name: NodeName, invite: z.string().min(1).optional(), user_token: z.boolean().optional() });
export type RegisterNodeRequest = z.input<typeof RegisterNodeRequest>;
/** The tokens are shown this once; the relay keeps only their hashes. */
export const RegisterNodeResponse = z.object({ name: z.string(), token: z.string(), rotated: z.boolean(), user_token: z.string().optional() });
export type RegisterNodeResponse = z.infer<typeof RegisterNodeResponse>;

export const RelayNode = z.object({
  name: z.string(),
  connected: z.boolean(),
  /** When the node's current token was issued (ISO 8601). */
  registered_at: z.string(),
  last_seen_at: z.string().nullable(),
  /** The nodes this node's token may reach besides itself ("*": all), by grant or relay setting. */
  may_reach: z.array(z.string()).optional(),
});
export type RelayNode = z.infer<typeof RelayNode>;
export const ListNodesResponse = z.object({ nodes: z.array(RelayNode) });
export type ListNodesResponse = z.infer<typeof ListNodesResponse>;

export const DeleteNodeResponse = z.object({ deleted: z.literal(true) });
export type DeleteNodeResponse = z.infer<typeof DeleteNodeResponse>;

/** PUT/DELETE /api/v1/nodes/<from>/grants/<to>, admin: node `from` may reach node `to` ("*": every node). */
export const GrantTarget = z.union([z.literal("*"), NodeName]);
export const GrantResponse = z.object({ from: z.string(), to: z.string(), granted: z.boolean() });
export type GrantResponse = z.infer<typeof GrantResponse>;

// User tokens (admin): what people's CLIs act with. They reach every node, but cannot register
// nodes, make invites, approve devices or manage tokens: that stays with the admin token.

export const CreateUserRequest = z.object({ name: NodeName });
export type CreateUserRequest = z.input<typeof CreateUserRequest>;
export const CreateUserResponse = z.object({ name: z.string(), token: z.string() });
export type CreateUserResponse = z.infer<typeof CreateUserResponse>;
export const ListUsersResponse = z.object({ users: z.array(z.object({ name: z.string(), created_at: z.string() })) });
export type ListUsersResponse = z.infer<typeof ListUsersResponse>;
export const DeleteUserResponse = z.object({ deleted: z.literal(true) });
export type DeleteUserResponse = z.infer<typeof DeleteUserResponse>;

// Invites

export const INVITE_MAX_TTL_S = 30 * 86_400;
export const CreateInviteRequest = z.object({
  uses: z.number().int().min(1).max(100).default(1),
  ttl_s: z.number().int().min(1).max(INVITE_MAX_TTL_S, { message: "an invite lives at most 30 days" }).default(86_400),
});
export type CreateInviteRequest = z.input<typeof CreateInviteRequest>;
export const CreateInviteResponse = z.object({ invite: z.string(), expires_at: z.string() });
export type CreateInviteResponse = z.infer<typeof CreateInviteResponse>;

// Device authorization (like `gh auth login`): a node asks to join with no token, the operator
// approves it with the admin token (from a browser at /device, or POST /api/v1/device/approve),
// and the node, polling, receives its token. Codes and constants per RFC 8628 where it applies.

/** How long a device request waits for the operator, and how often a node polls. */
export const DEVICE_EXPIRES_IN_S = 600;
export const DEVICE_INTERVAL_S = 2;
/**
 * At most this many unexpired requests at a time, and this many from one source address (an
 * IPv6 address counts by its /64); more get 429 too_many. The per-address cap is what keeps one
 * caller from filling the table and blocking everyone's enrolment.
 */
export const DEVICE_MAX_PENDING = 1000;
export const DEVICE_MAX_PENDING_PER_ADDRESS = 5;

/** The user code's alphabet: consonants and digits, none of 0 O 1 I L (nor vowels: no words). */
export const USER_CODE_ALPHABET = "BCDFGHJKMNPQRSTVWXZ23456789";
export const USER_CODE_LENGTH = 8;

/**
 * A user code as typed (any case, with or without the dash or spaces) to its canonical 8
 * characters, or null when it cannot be one.
 */
export function normalizeUserCode(input: string): string | null {
  const s = input.toUpperCase().replace(/[\s-]/g, "");
  if (s.length !== USER_CODE_LENGTH) return null;
  for (const ch of s) if (!USER_CODE_ALPHABET.includes(ch)) return null;
  return s;
}

/** The canonical code as shown to people: XXXX-XXXX. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** POST /api/v1/device/authorize, no token. */
export const DeviceAuthorizeRequest = z.object({ name: NodeName });
export type DeviceAuthorizeRequest = z.input<typeof DeviceAuthorizeRequest>;
export const DeviceAuthorizeResponse = z.object({
  /** The secret the node polls with; the relay keeps only its hash. */
  device_code: z.string(),
  /** XXXX-XXXX, for the operator to check (or type) on the /device page. */
  user_code: z.string(),
  /** `<base>/device` */
  verification_uri: z.string(),
  /** `<base>/device?code=XXXX-XXXX` */
  verification_uri_complete: z.string(),
  /** Seconds until the request expires. */
  expires_in: z.number().int().positive(),
  /** Seconds between polls. */
  interval: z.number().int().positive(),
});
export type DeviceAuthorizeResponse = z.infer<typeof DeviceAuthorizeResponse>;

/**
 * POST /api/v1/device/poll, no token. 202 pending while the operator has not decided; 200
 * authorized with the node's token (then the request is gone: polling again is 404); errors:
 * 403 denied, 410 expired, 404 not_found (unknown, or already answered).
 */
export const DevicePollRequest = z.object({ device_code: z.string().min(1).max(256) });
export type DevicePollRequest = z.input<typeof DevicePollRequest>;
export const DevicePollPending = z.object({ status: z.literal("pending"), interval: z.number().int().positive() });
export type DevicePollPending = z.infer<typeof DevicePollPending>;
/** Like RegisterNodeResponse: `rotated` when the name was registered and its old token is now void. */
export const DevicePollAuthorized = z.object({ status: z.literal("authorized"), name: z.string(), token: z.string(), rotated: z.boolean(), user_token: z.string().optional() });
export type DevicePollAuthorized = z.infer<typeof DevicePollAuthorized>;
export const DevicePollResponse = z.discriminatedUnion("status", [DevicePollPending, DevicePollAuthorized]);
export type DevicePollResponse = z.infer<typeof DevicePollResponse>;

/** POST /api/v1/device/approve, admin token. The user code in any case, with or without the dash. */
export const DeviceApproveRequest = z.object({ user_code: z.string().min(1).max(64), approve: z.boolean() });
export type DeviceApproveRequest = z.input<typeof DeviceApproveRequest>;
/** `replaces`: a node of that name is registered, and its token will be rotated when the node polls. */
export const DeviceApproveResponse = z.object({ name: z.string(), approved: z.boolean(), replaces: z.boolean() });
export type DeviceApproveResponse = z.infer<typeof DeviceApproveResponse>;

/** POST /device, the HTML form (application/x-www-form-urlencoded): the admin token is in the form. */
export const DeviceFormRequest = z.object({
  user_code: z.string().max(64).default(""),
  token: z.string().max(1024).default(""),
  action: z.enum(["approve", "deny"]),
});
export type DeviceFormRequest = z.input<typeof DeviceFormRequest>;

// Shared key-value store: same model as the node-local `cw kv` (messages.ts).

export const RelayKvNamespace = z.string().min(1).max(128).regex(/^[\w.:-]+$/, { message: "a namespace is letters, digits and . _ : -" });
/**
 * A key: any text (slashes, spaces, unicode) except "." and "..", which a URL path cannot carry
 * (URL parsing removes them as dot segments even when percent-encoded). Use relayKvPath.
 */
export const RelayKvKey = z
  .string()
  .min(1)
  .max(512)
  .refine((k) => k !== "." && k !== "..", { message: 'a key cannot be "." or ".."' });

/** How much a namespace of the relay's KV may hold; past either, a set gets 429 over_quota. */
export const KV_NS_MAX_KEYS = 10_000;
export const KV_NS_MAX_BYTES = 64 * 1024 * 1024;
/**
 * A KV PUT's body: the value as is (any Content-Type but JSON; `X-TTL: <seconds>`), or JSON
 * `{ value, ttl_s?, if_absent? }`. The raw form may carry a value of the full KV_MAX_VALUE_BYTES;
 * a JSON body is capped at the same size plus this, so escaping can cost a big value its room.
 */
export const KV_PUT_MAX_BODY_BYTES = KV_MAX_VALUE_BYTES + 64 * 1024;
/** `If-None-Match: *` asks for the same as if_absent: 412 precondition_failed when the key is set. */
export const KvPutRequest = z.object({ value: KvValue, ttl_s: KvTtl.optional(), if_absent: z.boolean().optional() });
export type KvPutRequest = z.input<typeof KvPutRequest>;
export const KvPutResponse = z.object({ ok: z.literal(true) });
export type KvPutResponse = z.infer<typeof KvPutResponse>;
export const KvGetResponse = z.object({ entry: KVEntry });
export type KvGetResponse = z.infer<typeof KvGetResponse>;
/** A listed entry: the value only when the listing asked for values. */
export const KvListEntry = KVEntry.extend({ value: z.string().optional() });
export type KvListEntry = z.infer<typeof KvListEntry>;
/** GET /api/v1/kv/{ns}?prefix=&limit=&cursor=&values=1 */
export const KV_LIST_MAX_LIMIT = 1000;
/** A page with values stops once it holds this many bytes of them (at least one entry). */
export const KV_LIST_PAGE_BYTES = 4 * 1024 * 1024;
export const KvListQuery = z.object({
  prefix: z.string().max(512).default(""),
  limit: z.coerce.number().int().min(1).max(KV_LIST_MAX_LIMIT).default(100),
  /** The previous page's next_cursor. */
  cursor: z.string().min(1).max(512).optional(),
  values: z.enum(["0", "1", "true", "false"]).default("0").transform((v) => v === "1" || v === "true"),
});
export const KvListResponse = z.object({ entries: z.array(KvListEntry), next_cursor: z.string().nullable() });
export type KvListResponse = z.infer<typeof KvListResponse>;
/** DELETE's optional JSON body: `{ if_value }` deletes only while the key holds exactly that value. */
export const KvDeleteRequest = z.object({ if_value: z.string().optional() });
export type KvDeleteRequest = z.input<typeof KvDeleteRequest>;
export const KvDeleteResponse = z.object({ deleted: z.boolean() });
export type KvDeleteResponse = z.infer<typeof KvDeleteResponse>;

/**
 * The path of a key (or of a namespace's listing, without a key). The key is one percent-encoded
 * segment, so `/`, `?`, `#`, `%` and spaces in it survive; the relay also reads an unencoded `/`
 * as part of the key, so a proxy that decodes %2F changes nothing.
 */
export function relayKvPath(ns: string, key?: string): string {
  const base = `/api/v1/kv/${encodeURIComponent(ns)}`;
  return key === undefined ? base : `${base}/${encodeURIComponent(key)}`;
}
