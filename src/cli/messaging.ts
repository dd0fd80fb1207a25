/** Shared by the messaging commands: who is sending, and how messages print. */
import type { Delivery, Message, Party, SessionRef } from "../protocol";
import { remoteSender, type RemoteSenderInfo } from "../client/remote-sender";
import { remoteTarget } from "../client/remote-target";
import { dataDir } from "../config/paths";
import { UsageError } from "./errors";
import { sessionRef } from "./target";

/**
 * Explicit -f wins; inside a session the sender is that session; from a plain shell, the user.
 * Talking to another node, this session's id means nothing there: the sender is the user.
 */
export function senderRef(from: string | undefined): SessionRef | undefined {
  if (from !== undefined) return sessionRef(from, "sender");
  if (remoteTarget()) return undefined;
  const own = process.env.CW_SESSION_ID;
  return own && /^\d+$/.test(own) ? Number(own) : undefined;
}

/**
 * The sender fields of a request: `from` when there is a sender session here; `from_remote`
 * when this session sends to another node, which names it by this node.
 */
export function optionalFrom(from: string | undefined): { from?: SessionRef; from_remote?: RemoteSenderInfo } {
  const f = senderRef(from);
  if (f !== undefined) return { from: f };
  return from === undefined ? remoteSender(dataDir()) : {};
}

export function delivery(v: string | undefined): Delivery {
  const d = v ?? "inbox";
  if (d !== "inbox" && d !== "pty" && d !== "both") throw new UsageError(`--delivery is inbox, pty or both; got ${JSON.stringify(d)}`);
  return d;
}

export function who(p: Party | null): string {
  if (!p) return "user";
  return p.node ? `${p.node}:${p.name ?? p.id}` : (p.name ?? String(p.id));
}

/** One line per message in the seed's listen format. */
export function formatMessage(m: Message): string {
  if (m.kind === "request") return `[${who(m.from)} → ${who(m.to)}] REQUEST (${m.id}): ${m.body}`;
  if (m.kind === "reply") return `[${who(m.from)}] REPLY (${m.request_id}): ${m.body}`;
  return `[${who(m.from)} → ${who(m.to)}] ${m.body}`;
}

export const SENDER_ARGS = {
  from: { type: "string", alias: "f", description: "Send as this session (default: $CW_SESSION_ID inside a session, else you)", valueHint: "session" },
  delivery: { type: "string", description: "inbox (default), pty (also type it into the target's terminal) or both", valueHint: "inbox|pty|both" },
} as const;
