/**
 * The web app's JSON API (`/web/...`): every body the server sends or takes, shared by the
 * server (routes.ts) and the browser app (app/), which validates what it receives with these,
 * as the CLI does with the node's replies. Sessions are the protocol's own SessionInfo.
 */
import { z } from "zod";
import { Launch } from "../protocol/requests";
import { SessionInfo } from "../protocol/session";

/** Sent with every state-changing request, holding the token GET /web/me gave. */
export const CSRF_HEADER = "x-csrf-token";
/** The sign-in cookie: an opaque random id (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "cw_session";
/** The one node a local `cw web` shows. */
export const LOCAL_NODE = "local";

export const WebError = z.object({ error: z.string(), message: z.string(), hint: z.string() });
export type WebError = z.infer<typeof WebError>;

/** GET /web/me: who is signed in, and the CSRF token for this sign-in. */
export const Me = z.object({
  mode: z.enum(["local", "relay"]),
  csrf: z.string(),
  expires_at: z.string(),
});
export type Me = z.infer<typeof Me>;

/** GET /web/meta (no sign-in needed): what the sign-in page should offer. */
export const Meta = z.object({ mode: z.enum(["local", "relay"]), version: z.string() });
export type Meta = z.infer<typeof Meta>;

/** What sign-in and sign-out answer. */
export const OkReply = z.object({ ok: z.literal(true) });

/** POST /web/signin (relay): a user credential (today the relay's admin token). */
export const SignIn = z.object({ token: z.string().min(1).max(1024) });

/** POST /web/signin/code: a code for a signed-in person to approve, and the secret to poll with. */
export const CodeStarted = z.object({ user_code: z.string(), poll_id: z.string(), expires_in: z.number() });
/** POST /web/signin/code/poll: 202 `{ status: "pending" }` until approved, then 200 OkReply and the cookie. */
export const CodePoll = z.object({ poll_id: z.string().min(1).max(256) });
export const CodePending = z.object({ status: z.literal("pending") });
/** POST /web/signin/approve (signed in): the code another browser shows. */
export const CodeApprove = z.object({ user_code: z.string().min(1).max(64) });

export const WebNode = z.object({ name: z.string(), online: z.boolean(), last_seen_at: z.string().nullable() });
export type WebNode = z.infer<typeof WebNode>;
export const NodesReply = z.object({ nodes: z.array(WebNode) });

export const SessionsReply = z.object({ sessions: z.array(SessionInfo) });

/** POST /web/nodes/:node/sessions: what the launch form sends (the node's Launch, narrowed). */
export const LaunchBody = Launch.pick({ command: true, name: true, working_dir: true, tags: true });
export type LaunchBody = z.input<typeof LaunchBody>;
export const LaunchedReply = z.object({ session: SessionInfo });
export const KilledReply = z.object({ ids: z.array(z.number()) });

/** The WebSocket a browser attaches on: the same path, and frames, as `cw attach` through a relay. */
export function connectPath(node: string): string {
  return `/api/v1/nodes/${encodeURIComponent(node)}/connect`;
}
