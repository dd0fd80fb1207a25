/**
 * The request table: one entry per request type. Validation, error replies and the protocol
 * version check live here once, so handlers stay short.
 */
import { ErrorReply, type Frame, ProtocolError, PROTOCOL_VERSION, Request, type RequestOf, type RequestType, REQUEST_TYPES } from "../protocol";
import type { Connection } from "./connection";
import type { NodeContext } from "./context";
import { attach } from "./requests/attach";
import { hookEvent } from "./requests/hook";
import { kill, killAll, killByTags } from "./requests/kill";
import { kvDelete, kvGet, kvList, kvSet } from "./requests/kv";
import { logs } from "./requests/logs";
import { idClaim, idShow, peerAccept, peerAdd, peerBroadcast, peerList, peerMsg, peerReject, peerRemove } from "./requests/peers";
import { relayConnect, relayStatus } from "./requests/relay";
import { broadcast, msgListen, msgRead, msgReply, msgRequest, msgSend } from "./requests/messaging";
import { sendInput } from "./requests/send-input";
import { getScreen, getStatus, launch, listSessions, ping, shutdown } from "./requests/simple";
import { subscribe } from "./requests/subscribe";
import { wait } from "./requests/wait";
import { watch } from "./requests/watch";
import { collectSoon } from "./collect-after-work";

type Handler<T extends RequestType> = (req: RequestOf<T>, conn: Connection, ctx: NodeContext) => void | Promise<void>;

const table: { [K in RequestType]: Handler<K> } = {
  Ping: ping,
  Shutdown: shutdown,
  ListSessions: listSessions,
  Launch: launch,
  Attach: attach,
  Kill: kill,
  KillAll: killAll,
  KillByTags: killByTags,
  Logs: logs,
  SendInput: sendInput,
  GetStatus: getStatus,
  GetScreen: getScreen,
  WatchSession: watch,
  Subscribe: subscribe,
  Wait: wait,
  HookEvent: hookEvent,
  MsgSend: msgSend,
  Broadcast: broadcast,
  MsgRead: msgRead,
  MsgRequest: msgRequest,
  MsgReply: msgReply,
  MsgListen: msgListen,
  KVSet: kvSet,
  KVGet: kvGet,
  KVDelete: kvDelete,
  KVList: kvList,
  RelayConnect: relayConnect,
  RelayStatus: relayStatus,
  IdShow: idShow,
  IdClaim: idClaim,
  PeerAdd: peerAdd,
  PeerList: peerList,
  PeerAccept: peerAccept,
  PeerReject: peerReject,
  PeerRemove: peerRemove,
  PeerMsg: peerMsg,
  PeerBroadcast: peerBroadcast,
};

/**
 * Requests that change nothing on the node. incoming.ts runs them as they arrive; the others wait
 * a turn of the event loop, to be dropped if their client has already gone.
 */
export const READ_ONLY_REQUESTS: ReadonlySet<RequestType> = new Set<RequestType>(["Ping", "ListSessions", "GetStatus", "GetScreen", "KVGet", "KVList", "RelayStatus", "IdShow", "PeerList"]);

function isDiskFull(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return err?.code === "ENOSPC" || err?.code === "SQLITE_FULL" || /disk is full|ENOSPC|no space left/i.test(String(err?.message ?? ""));
}

export function sendError(conn: Connection, e: unknown, ctx: NodeContext): void {
  let reply: ErrorReply;
  if (isDiskFull(e)) {
    ctx.log(`disk full: ${(e as Error).message}`);
    reply = { type: "Error", code: "disk_full", message: "the node's disk is full: nothing was stored", hint: `free space where the data directory is (${ctx.paths.root}) and try again` };
  } else if (e instanceof ProtocolError) reply = { type: "Error", code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.issues ? { issues: e.issues } : {}) };
  else {
    ctx.log(`internal error: ${(e as Error)?.stack ?? e}`);
    reply = { type: "Error", code: "internal", message: `the node failed on this request: ${(e as Error)?.message ?? e}`, hint: "see node.log in the data directory" };
  }
  conn.reply(reply);
  conn.end();
}

function validate(message: unknown): Request {
  const type = (message as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !REQUEST_TYPES.includes(type as RequestType)) {
    throw new ProtocolError("unknown_request", `unknown request ${JSON.stringify(type ?? null)}`, "the client may be newer than the node: restart it with `cw stop && cw start`");
  }
  const version = (message as { protocol?: unknown }).protocol;
  if (typeof version === "number" && version !== PROTOCOL_VERSION) {
    throw new ProtocolError("version_mismatch", `client speaks protocol ${version}, node speaks ${PROTOCOL_VERSION}`, "restart the node with the installed cw: `cw stop && cw start`");
  }
  const parsed = Request.safeParse(message);
  if (!parsed.success) {
    // One issue per field: a tag that is empty also fails the pattern, with the same message.
    const issues: { path: string; message: string }[] = [];
    for (const i of parsed.error.issues) {
      const path = i.path.join(".");
      if (!issues.some((x) => x.path === path)) issues.push({ path, message: i.message });
    }
    const why = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    throw new ProtocolError("bad_request", `invalid ${type}: ${why}`, undefined, issues);
  }
  return parsed.data;
}

/** Handles the first frame of a connection. */
export async function dispatch(frame: Frame, conn: Connection, ctx: NodeContext): Promise<void> {
  collectSoon();
  try {
    if (frame.kind !== "control") throw new ProtocolError("bad_request", "a connection must start with a control frame naming a request");
    const req = validate(frame.message);
    await (table[req.type] as Handler<typeof req.type>)(req as never, conn, ctx);
  } catch (e) {
    sendError(conn, e, ctx);
  }
}
