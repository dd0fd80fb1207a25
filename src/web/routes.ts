/**
 * The web app's HTTP side, for `cw web` and the relay alike: the page and its assets, signing in
 * and out, and a JSON API over a node's sessions (list, launch, kill, log). Attaching is a
 * WebSocket that speaks `cw attach`'s frames (serve.ts locally, the relay's own listener on a
 * relay), so it is not here. Every /web route but sign-in needs a live sign-in; every request
 * that changes something needs the app's origin and the sign-in's CSRF token. Errors are
 * `{ error, message, hint }`.
 */
import { HttpError as WebFailure } from "../sys/http";
import { type Context, type Env as HonoEnv, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { NodeConnection } from "../client/connection";
import { NodeError, NodeUnavailableError } from "../client/errors";
import { SessionRef } from "../protocol/session";
import { CodeApprove, type CodePending, CodePoll, type CodeStarted, CSRF_HEADER, KilledReply, LaunchBody, LaunchedReply, type Me, type Meta, type NodesReply, SESSION_COOKIE, SessionsReply, SignIn, type WebError, type WebNode } from "./api";
import { type ServedAsset, webAssets } from "./assets";
import { sameOrigin, signedIn, signInId } from "./guard";
import { LOG_TAIL_MAX, ask, readLog } from "./node-calls";
import { indexHtml, newNonce, securityHeaders } from "./page";
import { SIGNIN_TTL_MS, SignIns, type SignInBook, type SignIn as SignInRecord } from "./signins";
import { type CodeBook, CodeSignIns } from "./code-signin";

/** What the app works on: this machine's node, or the relay's nodes. */
export interface WebBackend {
  mode: "local" | "relay";
  nodes(): Promise<WebNode[]> | WebNode[];
  /** A client connection to `node`; throws NodeUnavailableError when it cannot be reached. */
  dial(node: string): Promise<NodeConnection> | NodeConnection;
  /** Relay: whether a typed credential may sign in (today the admin token). */
  checkCredential?(token: string): Promise<boolean> | boolean;
}

export interface WebDeps {
  backend: WebBackend;
  signIns: SignInBook;
  /** Waiting sign-in codes; by default in this process's memory. */
  codes?: CodeBook;
  version: string;
  /** Mark the cookie Secure: the app is served over https (the relay's --base-url says so). */
  secure: boolean;
}

type Env = { Variables: { signIn: SignInRecord } };

/** The web app's failure: an HttpError its error handler answers as JSON. */
export { WebFailure };

const BODY_MAX = 64 * 1024;

/** Adds the app's routes to `app` (a relay's or cw web's own). */
export function registerWebRoutes<E extends HonoEnv>(app: Hono<E>, deps: WebDeps): void {
  const web = new Hono<Env>();
  const { backend, signIns } = deps;
  const codes = deps.codes ?? new CodeSignIns();

  web.onError((e, c) => {
    const f = asFailure(e);
    return c.json({ error: f.code, message: f.message, hint: f.hint } satisfies WebError, f.status, securityHeaders());
  });

  // The page, public: it holds no data and shows the sign-in when there is none.
  web.get("/", async (c) => {
    const token = c.req.query("token");
    if (token !== undefined && backend.mode === "local") return exchangeOneTime(c, token);
    const nonce = newNonce();
    return c.html(indexHtml(nonce, "codewire", await webAssets()), 200, securityHeaders(nonce));
  });
  web.get("/app/:file", async (c) => {
    const { js, css } = await webAssets();
    const a = [js, css].find((x) => x.path === c.req.path);
    if (!a) fail(404, "not_found", `no ${c.req.path} in this version of the app`, "reload the page");
    return assetResponse(c, a);
  });

  // No icon: an empty answer keeps browsers from logging a 404 on every load.
  web.get("/favicon.ico", (c) => c.body(null, 204, securityHeaders()));

  web.get("/web/meta", (c) => c.json({ mode: backend.mode, version: deps.version } satisfies Meta, 200, securityHeaders()));

  web.use("/web/*", bodyLimit({ maxSize: BODY_MAX, onError: () => fail(413, "too_large", `the request body is over ${BODY_MAX} bytes`, "send less") }));

  // Every state-changing request comes from the app's own origin, signed in or not.
  web.use("/web/*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && !sameOrigin(c.req.raw, true)) fail(403, "forbidden", "this request did not come from the web app's own page", "use the app at its own address");
    await next();
  });

  web.post("/web/signin", async (c) => {
    if (!backend.checkCredential) fail(404, "not_found", "signing in with a token is for a relay", "open the link `cw web` printed (it holds a one-time token)");
    const { token } = await body(c, SignIn);
    if (!(await backend.checkCredential(token.trim()))) fail(401, "unauthorized", "that token does not sign in to this relay", "use the relay's admin token (CW_AUTH_TOKEN on the relay, or the one it printed on first start)");
    return (await startSignIn(c, deps)).json({ ok: true });
  });

  // Signing in with a code that a person signed in elsewhere approves (code-signin.ts).
  web.post("/web/signin/code", async (c) => {
    const started = await codes.start();
    if (!started) fail(429, "too_many", "too many sign-in codes are waiting for approval", "try again in a few minutes, when unapproved codes have expired");
    return c.json({ user_code: started.code, poll_id: started.pollId, expires_in: Math.round((started.expiresAt - Date.now()) / 1000) } satisfies z.input<typeof CodeStarted>, 201, securityHeaders());
  });
  web.post("/web/signin/code/poll", async (c) => {
    const r = await codes.poll((await body(c, CodePoll)).poll_id);
    if (r === "pending") return c.json({ status: "pending" } satisfies z.input<typeof CodePending>, 202, securityHeaders());
    if (r === "expired") fail(410, "expired", "the code expired before it was approved", "ask for a new code");
    if (r === "unknown") fail(404, "not_found", "no sign-in code is waiting for this browser", "ask for a new code");
    return (await startSignIn(c, deps)).json({ ok: true });
  });

  // From here on, a live sign-in; and its CSRF token on anything but a read.
  web.use("/web/*", async (c, next) => {
    const s = await signedIn(c.req.raw, signIns);
    if (!s) fail(401, "unauthorized", "not signed in, or the sign-in expired", backend.mode === "local" ? "open the link `cw web` printed (run it again for a new one)" : "sign in again with your token");
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && !SignIns.csrfOk(s, c.req.header(CSRF_HEADER))) {
      fail(403, "csrf", "the request's CSRF token is missing or wrong", "reload the page and try again");
    }
    c.set("signIn", s);
    await next();
  });

  web.get("/web/me", (c) => {
    const s = c.get("signIn");
    return c.json({ mode: backend.mode, csrf: s.csrf, expires_at: new Date(s.expiresAt).toISOString() } satisfies Me, 200, securityHeaders());
  });

  web.post("/web/signout", async (c) => {
    await signIns.revoke(signInId(c.req.raw));
    c.header("set-cookie", cookie("", 0, deps.secure));
    return c.json({ ok: true }, 200, securityHeaders());
  });

  web.post("/web/signin/approve", async (c) => {
    if (!(await codes.approve((await body(c, CodeApprove)).user_code))) fail(404, "not_found", "no browser is waiting with that code", "check the code the other browser shows (XXXX-XXXX); it may have expired");
    return c.json({ ok: true }, 200, securityHeaders());
  });

  web.get("/web/nodes", async (c) => c.json({ nodes: await backend.nodes() } satisfies z.input<typeof NodesReply>, 200, securityHeaders()));

  web.get("/web/nodes/:node/sessions", async (c) => {
    const r = await ask(await dial(backend, c.req.param("node")), { type: "ListSessions" }, "SessionList");
    return c.json({ sessions: r.sessions } satisfies z.input<typeof SessionsReply>, 200, securityHeaders());
  });

  web.post("/web/nodes/:node/sessions", async (c) => {
    const b = await body(c, LaunchBody);
    // The node's environment, not this server's: the browser's user has none to give.
    const r = await ask(await dial(backend, c.req.param("node")), { type: "Launch", ...b, env_from: "node", env: {}, cols: 100, rows: 30 }, "Launched");
    return c.json({ session: r.session } satisfies z.input<typeof LaunchedReply>, 201, securityHeaders());
  });

  web.post("/web/nodes/:node/sessions/:id/kill", async (c) => {
    const r = await ask(await dial(backend, c.req.param("node")), { type: "Kill", id: ref(c.req.param("id")) }, "Killed");
    return c.json({ ids: r.ids } satisfies z.input<typeof KilledReply>, 200, securityHeaders());
  });

  // Text, never HTML: the browser shows it with textContent, and nosniff keeps it text.
  web.get("/web/nodes/:node/sessions/:id/log", async (c) => {
    const tail = Math.min(LOG_TAIL_MAX, Math.max(1, Number(c.req.query("tail")) || 1000));
    const text = await readLog(await dial(backend, c.req.param("node")), ref(c.req.param("id")), tail);
    return c.body(text, 200, { ...securityHeaders(), "content-type": "text/plain; charset=utf-8" });
  });

  web.all("/web/*", (c) => fail(404, "not_found", `no route ${c.req.method} ${c.req.path}`, "the web app's API is under /web"));

  app.route("/", web);

  /** The link `cw web` printed: its token becomes a sign-in, once; the URL loses the token. */
  async function exchangeOneTime(c: Context, token: string): Promise<Response> {
    if (!(await backend.checkCredential?.(token))) {
      const nonce = newNonce();
      return c.html(indexHtml(nonce, "codewire: link used or wrong", await webAssets()), 401, securityHeaders(nonce));
    }
    await startSignIn(c, deps);
    return c.redirect("/", 303);
  }
}

/** Named by its content, an asset never changes: the browser keeps it for good. */
function assetResponse(c: Context, a: ServedAsset): Response {
  const headers: Record<string, string> = { ...securityHeaders(), "content-type": a.type, "cache-control": "public, max-age=31536000, immutable", vary: "accept-encoding" };
  if (!/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) return c.body(a.body, 200, headers);
  return c.body(a.gzip() as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-encoding": "gzip" });
}

async function startSignIn(c: Context, deps: WebDeps): Promise<Context> {
  const { id } = await deps.signIns.create();
  c.header("set-cookie", cookie(id, SIGNIN_TTL_MS / 1000, deps.secure));
  for (const [k, v] of Object.entries(securityHeaders())) c.header(k, v);
  return c;
}

function cookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? "; Secure" : ""}`;
}

async function dial(backend: WebBackend, node: string): Promise<NodeConnection> {
  return await backend.dial(node);
}

function ref(raw: string): number | string {
  const v = /^\d+$/.test(raw) ? Number(raw) : raw;
  const r = SessionRef.safeParse(v);
  if (!r.success) fail(400, "bad_request", `${JSON.stringify(raw)} is not a session id or name`, "sessions are named by id or name");
  return r.data;
}

async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    fail(400, "bad_request", "the body is not JSON", "send JSON with Content-Type: application/json");
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    fail(400, "bad_request", `the body is invalid: ${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`, "correct it and send it again");
  }
  return r.data;
}

function fail(status: ContentfulStatusCode, code: string, message: string, hint: string): never {
  throw new WebFailure(status, code, message, hint);
}

/** Node errors as HTTP: the node's own code, message and hint. */
function asFailure(e: unknown): WebFailure {
  if (e instanceof WebFailure) return e;
  if (e instanceof NodeUnavailableError) return new WebFailure(503, "unavailable", e.message, e.hint ?? "check that the node runs");
  if (e instanceof NodeError) {
    const status: Record<string, ContentfulStatusCode> = { not_found: 404, not_running: 409, name_taken: 409, conflict: 409, bad_request: 400, invalid_name: 400, timeout: 504, unavailable: 503, spawn_failed: 400 };
    return new WebFailure(status[e.code] ?? 502, e.code, e.message, e.hint ?? "see the node's node.log");
  }
  return new WebFailure(500, "internal", `the web server failed: ${(e as Error).message}`, "try again; if it persists, see the server's log");
}
