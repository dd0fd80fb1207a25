/**
 * Messages between sessions (and the user): direct messages, requests and their replies, and
 * the node-local key-value store. Shared by node, CLI and MCP.
 */
import { z } from "zod";
import { NODE_NAME_RE, SESSION_NAME_RE } from "./constants";
import { SessionName, SessionRef, Tag } from "./session";

/** Largest message body; bigger ones are refused with a hint rather than truncated. */
export const MAX_BODY_BYTES = 64 * 1024;
const Body = z.string().min(1, { message: "the message is empty" }).refine((s) => Buffer.byteLength(s) <= MAX_BODY_BYTES, { message: `a message is at most ${MAX_BODY_BYTES} bytes` });

/**
 * Who sent or receives a message; a null sender is the user at a plain shell. `node` is set for
 * a session on another node (a message that came through the relay): its id is that node's.
 */
export const Party = z.object({ id: z.number().int(), name: z.string().optional(), node: z.string().optional() });
export type Party = z.infer<typeof Party>;
/**
 * A sending session on another node, as that node names it. Its name already exists there, so it
 * is checked for its characters only: a session named before all-digit names were refused may
 * still send.
 */
export const RemoteSender = z.object({ id: z.number().int().positive(), name: z.string().regex(SESSION_NAME_RE).optional(), node: z.string().regex(NODE_NAME_RE) });

export const Delivery = z.enum(["inbox", "pty", "both"]);
export type Delivery = z.infer<typeof Delivery>;

export const Message = z.object({
  id: z.string(),
  kind: z.enum(["direct", "request", "reply"]),
  from: Party.nullable(),
  to: Party.nullable(),
  body: z.string(),
  created_at: z.string(),
  read: z.boolean(),
  /** For a reply: the request it answers. */
  request_id: z.string().optional(),
  /** For a request: pending until replied, or expired/failed, or cancelled (the requester stopped waiting). */
  status: z.enum(["pending", "replied", "expired", "failed", "cancelled"]).optional(),
});
export type Message = z.infer<typeof Message>;

const base = { protocol: z.number().int().optional() };
const Common = { from: SessionRef.optional(), from_remote: RemoteSender.optional(), delivery: Delivery.default("inbox") };

export const MsgSend = z.object({ type: z.literal("MsgSend"), ...base, to: SessionRef, body: Body, ...Common });
export const Broadcast = z.object({ type: z.literal("Broadcast"), ...base, tags: z.array(Tag).optional(), body: Body, ...Common });
export const MsgRead = z.object({
  type: z.literal("MsgRead"),
  ...base,
  session: SessionRef,
  tail: z.number().int().min(1).max(1000).default(50),
  unread_only: z.boolean().default(false),
  mark_read: z.boolean().default(true),
});
export const MsgRequest = z.object({ type: z.literal("MsgRequest"), ...base, to: SessionRef, body: Body, ...Common, timeout_s: z.number().positive().max(86_400).default(60) });
export const MsgReply = z.object({ type: z.literal("MsgReply"), ...base, request_id: z.string().min(1), body: Body, from: SessionRef.optional() });
export const MsgListen = z.object({ type: z.literal("MsgListen"), ...base, session: SessionRef.optional() });

const Ns = z.string().min(1).max(128).regex(/^[\w.:-]+$/, { message: "a namespace is letters, digits and . _ : -" }).default("default");
/**
 * true: this node's own store (kv.db) even when a relay's shared store answers `cw kv`, to reach
 * keys set before `cw setup`.
 */
const Local = { local: z.boolean().default(false) };
const Key = z.string().min(1, { message: "the key is empty" }).max(512, { message: "a key is at most 512 characters" });
/**
 * The largest value, in bytes of UTF-8, on every path: the node's own store, the relay, the CLI
 * and MCP. (A JavaScript string's length counts UTF-16 units, which is not what is stored.)
 */
export const KV_MAX_VALUE_BYTES = 1024 * 1024;
export const KvValue = z.string().refine((s) => s.length <= KV_MAX_VALUE_BYTES && Buffer.byteLength(s) <= KV_MAX_VALUE_BYTES, {
  message: `a value is at most ${KV_MAX_VALUE_BYTES} bytes (1 MiB) of UTF-8`,
});
/** Ten years: far enough, and keeps expiry times within what a Date can print. */
export const KV_MAX_TTL_S = 10 * 365 * 86_400;
/** A TTL of 0 would mean "already expired" or, as it once did, "never": refused as unclear. */
export const KvTtl = z.number().positive({ message: "a TTL must be more than 0 seconds (to remove a key, delete it)" }).max(KV_MAX_TTL_S);

export const KVSet = z.object({
  type: z.literal("KVSet"),
  ...base,
  ...Local,
  ns: Ns,
  key: Key,
  value: KvValue,
  ttl_s: KvTtl.optional(),
  /** Store only when the key is absent (or expired): a lock. KVSetOK says whether it was stored. */
  if_absent: z.boolean().optional(),
});
export const KVGet = z.object({ type: z.literal("KVGet"), ...base, ...Local, ns: Ns, key: Key });
/** With `if_value`, delete only while the key holds exactly that value (release only your own lock). */
export const KVDelete = z.object({ type: z.literal("KVDelete"), ...base, ...Local, ns: Ns, key: Key, if_value: z.string().optional() });
export const KVList = z.object({ type: z.literal("KVList"), ...base, ...Local, ns: Ns, prefix: z.string().default("") });

export const KVEntry = z.object({ key: z.string(), value: z.string(), expires_at: z.string().nullable() });
export type KVEntry = z.infer<typeof KVEntry>;

export const MESSAGE_REQUESTS = [MsgSend, Broadcast, MsgRead, MsgRequest, MsgReply, MsgListen, KVSet, KVGet, KVDelete, KVList] as const;

// Replies
export const MsgSent = z.object({ type: z.literal("MsgSent"), message: Message, delivered_to_pty: z.boolean().optional() });
export const BroadcastSent = z.object({ type: z.literal("BroadcastSent"), messages: z.array(Message) });
export const MsgReadResult = z.object({ type: z.literal("MsgReadResult"), messages: z.array(Message), unread: z.number().int() });
export const MsgRequestResult = z.object({
  type: z.literal("MsgRequestResult"),
  request: Message,
  outcome: z.enum(["replied", "timeout", "target_ended"]),
  reply: Message.optional(),
});
export const MsgReplySent = z.object({ type: z.literal("MsgReplySent"), message: Message });
export const MsgListenAck = z.object({ type: z.literal("MsgListenAck") });
/** Which store answered: this node's own (kv.db), or the relay's that every node shares. Nodes before it sent none. */
const KvStoreName = { store: z.enum(["local", "relay"]).optional() };
/** `stored` is false only for if_absent when the key was already set (older nodes leave it out). */
export const KVSetOK = z.object({ type: z.literal("KVSetOK"), stored: z.boolean().optional(), ...KvStoreName });
export const KVGetResult = z.object({ type: z.literal("KVGetResult"), found: z.boolean(), entry: KVEntry.nullable(), ...KvStoreName });
export const KVDeleteOK = z.object({ type: z.literal("KVDeleteOK"), deleted: z.boolean(), ...KvStoreName });
export const KVListResult = z.object({ type: z.literal("KVListResult"), entries: z.array(KVEntry), ...KvStoreName });

export const MESSAGE_REPLIES = [MsgSent, BroadcastSent, MsgReadResult, MsgRequestResult, MsgReplySent, MsgListenAck, KVSetOK, KVGetResult, KVDeleteOK, KVListResult] as const;

export { SessionName };
