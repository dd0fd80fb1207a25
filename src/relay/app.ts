/**
 * The relay's HTTP API: node registration, invites, device authorization and the shared
 * key-value store. Bun.serve hands it every request that is not a WebSocket upgrade
 * (`app.fetch(req)`). Bodies are defined in src/protocol/relay-api.ts; every error is
 * `{ error, message, hint }`. The operator's approval page (`/device`, HTML) is in device.ts.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import {
  CreateInviteRequest,
  type CreateInviteResponse,
  CreateUserRequest,
  type CreateUserResponse,
  type DeleteNodeResponse,
  type DeleteUserResponse,
  GrantTarget,
  type GrantResponse,
  type ListUsersResponse,
  NodeName,
  DEVICE_EXPIRES_IN_S,
  DEVICE_INTERVAL_S,
  DEVICE_MAX_PENDING,
  DEVICE_MAX_PENDING_PER_ADDRESS,
  DeviceApproveRequest,
  type DeviceApproveResponse,
  DeviceAuthorizeRequest,
  type DeviceAuthorizeResponse,
  DevicePollRequest,
  type DevicePollResponse,
  formatUserCode,
  KV_LIST_PAGE_BYTES,
  KV_MAX_VALUE_BYTES,
  KV_PUT_MAX_BODY_BYTES,
  KvListQuery,
  type KvListResponse,
  type ListNodesResponse,
  RELAY_MAX_BODY_BYTES,
  type RegisterNodeResponse,
  RegisterNodeRequest,
  type RelayHealth,
  type RelayReady,
  RelayKvNamespace,
  normalizeUserCode,
} from "../protocol/relay-api";
import type { NodeConnection } from "../client/connection";
import { relayWeb } from "../web/relay-backend";
import { registerWebRoutes } from "../web/routes";
import type { Identity, RelayAuth } from "./auth";
import { ApiError, errorBody, jsonBody, NEEDS_TOKEN, TOKEN_HINT, UNKNOWN_TOKEN, validated } from "./api-error";
import { registerDevicePage } from "./device";
import { isKvKeyPath, kvKeyRoutes } from "./routes/kv";
import { sourceAddress } from "./source";
import { type RelayKv, type RelayStore, StoreUnavailableError } from "./store/interface";

export interface RelayAppDeps {
  store: RelayStore;
  kv: RelayKv;
  auth: RelayAuth;
  hub: { isConnected(name: string): boolean; disconnect(name: string): void; rotated(name: string): void; dial?(name: string): NodeConnection };
  version: string;
  /** Serve the web app (src/web; its sign-ins are kept in the store); not without a hub that dials. */
  web?: boolean;
  /**
   * The relay's public URL (the operator's --base-url), for the links a device request gets;
   * without it, the origin of that request's own URL.
   */
  baseUrl?: string;
  /** Device-flow limits; the defaults are DEVICE_EXPIRES_IN_S, DEVICE_INTERVAL_S, DEVICE_MAX_PENDING(_PER_ADDRESS). */
  device?: { expiresInS?: number; intervalS?: number; maxPending?: number; maxPendingPerAddress?: number };
}

/** `ip`: the peer's address, from Bun.serve (absent in tests that call app.request). */
type Env = { Bindings: { ip?: string }; Variables: { who: Identity | null } };

const ADMIN_HINT =
  "this needs the relay's admin token (CW_AUTH_TOKEN on the relay, or the one it printed on first start); a user token lists and reaches nodes and uses the key-value store, a node's token only connects that node and uses the key-value store";
const PERSON_HINT =
  "a node's token only connects that node and uses the key-value store; listing and reaching nodes takes a user token (`cw setup <relay> --token <admin token>` writes one, or the operator's `cw tokens create`) or the admin token";

/** A node's last_seen_at is written at most this often from API calls (each write is an fsync). */
const TOUCH_EVERY_MS = 60_000;

export function createRelayApp(deps: RelayAppDeps): Hono<Env> {
  const { store, kv, auth, hub } = deps;
  const app = new Hono<Env>();
  const touched = new Map<string, number>();
  const expiresInS = deps.device?.expiresInS ?? DEVICE_EXPIRES_IN_S;
  const intervalS = deps.device?.intervalS ?? DEVICE_INTERVAL_S;
  const maxPending = deps.device?.maxPending ?? DEVICE_MAX_PENDING;
  const maxPendingPerAddress = deps.device?.maxPendingPerAddress ?? DEVICE_MAX_PENDING_PER_ADDRESS;

  app.onError((err, c) => {
    if (err instanceof ApiError) return fail(c, err);
    if (err instanceof StoreUnavailableError) return fail(c, new ApiError(503, "unavailable", err.message, err.hint));
    return fail(c, new ApiError(500, "internal", `the relay failed: ${err.message}`, "try again; if it persists, the relay's log has the cause"));
  });
  app.notFound((c) => fail(c, new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`, "the API is under /api/v1 (nodes, invites, device, kv); GET /healthz shows the relay's version, GET /readyz whether it can serve")));

  // Liveness: the process answers. Readiness: it can serve, i.e. its database can.
  app.get("/healthz", (c) => c.json({ ok: true, version: deps.version } satisfies RelayHealth));
  app.get("/readyz", async (c) => {
    const r = await store.readiness();
    if (!r.ok) throw new ApiError(503, "unavailable", `not ready: ${r.reason}`, "the relay retries by itself; check the database (its address is in the relay's log)");
    return c.json({ ok: true, version: deps.version, database: store.engine } satisfies RelayReady);
  });

  // Who is calling. No header is fine here (a route decides); a header with an unknown token
  // is refused outright rather than treated as anonymous.
  const identify = async (header: string | null): Promise<Identity | null> => {
    const who = await auth.identify(header);
    if (header !== null && !who) throw UNKNOWN_TOKEN;
    if (who?.kind === "node") {
      const last = touched.get(who.name) ?? 0;
      if (Date.now() - last >= TOUCH_EVERY_MS) {
        touched.set(who.name, Date.now());
        // last_seen_at is a hint to the operator: a failed write is not the caller's problem.
        store.touchNode(who.name).catch(() => {});
      }
    }
    return who;
  };
  app.use("/api/*", async (c, next) => {
    c.set("who", await identify(c.req.header("authorization") ?? null));
    await next();
  });
  // A KV value may be up to KV_MAX_VALUE_BYTES; every other body is a few short fields.
  const smallBody = bodyLimit({
    maxSize: RELAY_MAX_BODY_BYTES,
    onError: (c) => fail(c, new ApiError(413, "too_large", `the request body is over ${RELAY_MAX_BODY_BYTES} bytes`, "this route takes a small JSON object; see the API in the README")),
  });
  const kvBody = bodyLimit({
    maxSize: KV_PUT_MAX_BODY_BYTES,
    onError: (c) => fail(c, new ApiError(413, "too_large", `a value is at most ${KV_MAX_VALUE_BYTES} bytes of UTF-8`, "store large data elsewhere and put a reference to it in the key-value store")),
  });
  app.use("/api/*", (c, next) => (c.req.path.startsWith("/api/v1/kv/") ? kvBody(c, next) : smallBody(c, next)));

  // Nodes

  app.post("/api/v1/nodes", async (c) => {
    const who = c.get("who");
    if (who && who.kind !== "admin") throw new ApiError(403, "forbidden", `a ${who.kind}'s token cannot register nodes`, "register with the admin token, or with no token and an invite from the operator");
    const req = await parse(c, RegisterNodeRequest);
    if (who?.kind === "admin") {
      // The admin may rotate: the old token stops working, and a connection made with it ends.
      const rotated = await store.hasNode(req.name);
      const token = await store.registerNode(req.name);
      if (rotated) hub.rotated(req.name);
      const userToken = req.user_token ? await store.issueUserToken(req.name) : undefined;
      return c.json({ name: req.name, token, rotated, ...(userToken ? { user_token: userToken } : {}) } satisfies RegisterNodeResponse, 201);
    }
    if (!req.invite) throw new ApiError(401, "unauthorized", "registering a node needs the admin token or an invite", `${TOKEN_HINT}, or put an invite from the operator in the body's "invite" field`);
    const r = await store.redeemInvite(req.name, req.invite);
    if ("error" in r && r.error === "name_taken") throw new ApiError(409, "name_taken", `a node named ${req.name} is already registered`, "pick another name; only the operator (admin token) can re-register a name, which rotates its token");
    if ("error" in r) throw new ApiError(401, "invalid_invite", "the invite is not valid: unknown, expired or used up", "ask the relay's operator for a new invite");
    return c.json({ name: req.name, token: r.token, rotated: false } satisfies RegisterNodeResponse, 201);
  });

  app.get("/api/v1/nodes", async (c) => {
    requirePerson(c);
    const grants = await store.grants();
    const nodes = (await store.listNodes()).map((n) => ({
      name: n.name,
      connected: hub.isConnected(n.name),
      registered_at: n.registered_at,
      last_seen_at: n.last_seen_at,
      may_reach: auth.nodeAccess === "all" ? ["*"] : (grants.get(n.name) ?? []),
    }));
    return c.json({ nodes } satisfies ListNodesResponse);
  });

  // Grants: node `from` may reach node `to` (or "*", every node), for cross-node messages and
  // `--node` from inside a node that holds no user token.
  const grantRoute = "/api/v1/nodes/:from/grants/:to";
  const grantParams = async (c: Context<Env>) => {
    requireAdmin(c);
    const from = param(c, "from", NodeName);
    const to = param(c, "to", GrantTarget);
    if (!(await store.hasNode(from))) throw new ApiError(404, "not_found", `no node named ${from}`, "`cw nodes` lists the registered nodes");
    return { from, to };
  };
  app.put(grantRoute, async (c) => {
    const { from, to } = await grantParams(c);
    await store.grant(from, to);
    return c.json({ from, to, granted: true } satisfies GrantResponse);
  });
  app.delete(grantRoute, async (c) => {
    const { from, to } = await grantParams(c);
    await store.revokeGrant(from, to);
    return c.json({ from, to, granted: false } satisfies GrantResponse);
  });

  // User tokens

  app.get("/api/v1/users", async (c) => {
    requireAdmin(c);
    return c.json({ users: await store.listUsers() } satisfies ListUsersResponse);
  });
  app.post("/api/v1/users", async (c) => {
    requireAdmin(c);
    const req = await parse(c, CreateUserRequest);
    return c.json({ name: req.name, token: await store.issueUserToken(req.name) } satisfies CreateUserResponse, 201);
  });
  app.delete("/api/v1/users/:name", async (c) => {
    requireAdmin(c);
    const name = c.req.param("name");
    if (!(await store.deleteUser(name))) throw new ApiError(404, "not_found", `no user token named ${name}`, "`cw tokens` lists them");
    return c.json({ deleted: true } satisfies DeleteUserResponse);
  });

  app.delete("/api/v1/nodes/:name", async (c) => {
    requireAdmin(c);
    const name = c.req.param("name");
    if (!(await store.deleteNode(name))) throw new ApiError(404, "not_found", `no node named ${name}`, "list the registered nodes with GET /api/v1/nodes");
    touched.delete(name);
    hub.disconnect(name);
    return c.json({ deleted: true } satisfies DeleteNodeResponse);
  });

  // Invites

  app.post("/api/v1/invites", async (c) => {
    requireAdmin(c);
    const req = await parse(c, CreateInviteRequest);
    const { invite, expiresAt } = await store.createInvite(req.uses, req.ttl_s);
    return c.json({ invite, expires_at: expiresAt.toISOString() } satisfies CreateInviteResponse, 201);
  });

  // Device authorization: a node asks with no token (authorize), the operator approves (here
  // with the admin token, or on the /device page), the node polls and receives its token.

  app.post("/api/v1/device/authorize", async (c) => {
    const req = await parse(c, DeviceAuthorizeRequest);
    const source = sourceAddress(c.env?.ip, c.req.header("x-forwarded-for"));
    const r = await store.createDeviceRequest(req.name, expiresInS, { total: maxPending, perSource: maxPendingPerAddress }, source);
    if ("error" in r && r.error === "too_many_from_source") {
      throw new ApiError(429, "too_many", `${maxPendingPerAddress} device requests from your address are already waiting for approval`, "have the operator approve or deny those, or wait until they expire (10 minutes); or register with an invite or the admin token");
    }
    if ("error" in r) throw new ApiError(429, "too_many", `the relay already has ${maxPending} device requests waiting for approval`, "try again in a few minutes, when unapproved requests have expired; or register with an invite or the admin token");
    const base = (deps.baseUrl ?? new URL(c.req.url).origin).replace(/\/+$/, "");
    const userCode = formatUserCode(r.userCode);
    return c.json({
      device_code: r.deviceCode,
      user_code: userCode,
      verification_uri: `${base}/device`,
      verification_uri_complete: `${base}/device?code=${userCode}`,
      expires_in: expiresInS,
      interval: intervalS,
    } satisfies DeviceAuthorizeResponse);
  });

  app.post("/api/v1/device/poll", async (c) => {
    const req = await parse(c, DevicePollRequest);
    const r = await store.pollDeviceRequest(req.device_code);
    switch (r.status) {
      case "pending":
        return c.json({ status: "pending", interval: intervalS } satisfies DevicePollResponse, 202);
      case "authorized":
        if (r.rotated) {
          touched.delete(r.name);
          hub.rotated(r.name);
        }
        return c.json({ status: "authorized", name: r.name, token: r.token, rotated: r.rotated, user_token: r.userToken } satisfies DevicePollResponse);
      case "denied":
        throw new ApiError(403, "denied", `the relay's operator denied node ${r.name}`, "ask the operator; to try again, start over with `cw setup <relay-url>`");
      case "expired":
        throw new ApiError(410, "expired", `the request for node ${r.name} expired before the operator approved it`, "start over with `cw setup <relay-url>`, and have the operator approve within the time shown");
      case "unknown":
        throw new ApiError(404, "not_found", "no device request has this device code", "it may have been answered already (the token is given once) or expired long ago; start over with `cw setup <relay-url>`");
    }
  });

  app.post("/api/v1/device/approve", async (c) => {
    requireAdmin(c);
    const req = await parse(c, DeviceApproveRequest);
    const code = normalizeUserCode(req.user_code);
    const r = code === null ? null : await store.decideDeviceRequest(code, req.approve);
    if (!r) throw new ApiError(404, "not_found", `no pending device request has the code ${JSON.stringify(req.user_code)}`, "check the code the node shows (XXXX-XXXX); it may have expired or been approved or denied already");
    return c.json({ name: r.name, approved: req.approve, replaces: r.replaces } satisfies DeviceApproveResponse);
  });

  // The operator's page for approving device requests in a browser (HTML, no bearer header:
  // the admin token comes in the form). Outside /api, so the middleware above does not apply.
  registerDevicePage(app, { store, auth });

  // Shared key-value store: the listing here; a key's routes (get, set, delete) in routes/kv.ts,
  // served before Hono (below).

  // A listing is a page (limit + cursor) of keys; values only when asked, and then a page stops
  // at about KV_LIST_PAGE_BYTES of them, so no listing makes the relay hold a namespace at once.
  app.get("/api/v1/kv/:ns", async (c) => {
    requireAny(c);
    const ns = param(c, "ns", RelayKvNamespace);
    const q = validated(KvListQuery, c.req.query(), "the query");
    const page = await kv.page(ns, q.prefix, { limit: q.limit, values: q.values, maxBytes: KV_LIST_PAGE_BYTES, ...(q.cursor !== undefined ? { after: q.cursor } : {}) });
    return c.json({ entries: page.entries, next_cursor: page.next } satisfies KvListResponse);
  });

  // The web app (src/web): the page, sign-in with a person's token, the nodes, their sessions.
  // Its terminal's WebSocket is the clients' own /api/v1/nodes/<name>/connect (server.ts).
  if (deps.web && hub.dial) registerWebRoutes(app, relayWeb({ store, auth, hub: { isConnected: (n) => hub.isConnected(n), dial: (n) => hub.dial!(n) }, version: deps.version, ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}) }));

  // A key's routes are the relay's busiest: answered without Hono's routing and middleware
  // (their share was ~16 of ~52 us of CPU per set), with the same identify and errors.
  const kvKeys = kvKeyRoutes({ kv, identify });
  const routed = app.fetch;
  app.fetch = (req, env, ctx) => (isKvKeyPath(req) ? kvKeys(req) : routed(req, env, ctx));
  return app;
}

function fail(c: Context, e: ApiError): Response {
  return c.json(errorBody(e), e.status);
}

function requireAny(c: Context<Env>): Identity {
  const who = c.get("who");
  if (!who) throw NEEDS_TOKEN;
  return who;
}

/** A person: the admin or a user token; a node's token is refused with what it may do. */
function requirePerson(c: Context<Env>): void {
  if (requireAny(c).kind === "node") throw new ApiError(403, "forbidden", "a node's token cannot list or reach other nodes", PERSON_HINT);
}

function requireAdmin(c: Context<Env>): void {
  if (requireAny(c).kind !== "admin") throw new ApiError(403, "forbidden", "this needs the admin token", ADMIN_HINT);
}

/** The JSON body, validated; an empty body counts as `{}` so that all-default requests need none. */
async function parse<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  return validated(schema, await parseJson(c), "the body");
}

async function parseJson(c: Context): Promise<unknown> {
  return jsonBody(await c.req.text());
}

function param<T extends z.ZodType>(c: Context, name: string, schema: T): z.output<T> {
  return validated(schema, c.req.param(name), `the ${name} in the path`);
}
