/** Every reply a node sends. Streams (Attach, Logs, WatchSession, Subscribe) send several. */
import { z } from "zod";
import { SessionEvent } from "./events";
import { MESSAGE_REPLIES } from "./messages";
import { PEER_REPLIES } from "./peers";
import { AgentState, SessionInfo } from "./session";

export const Pong = z.object({
  type: z.literal("Pong"),
  version: z.string(),
  protocol: z.number(),
  pid: z.number(),
  data_dir: z.string(),
  /** The node's name (config `name`, default the host name); absent from older nodes. */
  name: z.string().optional(),
});
export const ShuttingDown = z.object({ type: z.literal("ShuttingDown") });
export const SessionList = z.object({ type: z.literal("SessionList"), sessions: z.array(SessionInfo) });
/** ListSessions with `table`: the table as text, and how many sessions it shows. */
export const SessionTable = z.object({ type: z.literal("SessionTable"), text: z.string(), count: z.number().int() });
export const Launched = z.object({ type: z.literal("Launched"), session: SessionInfo });
/**
 * `lane`: the node serves the client's terminal itself (Attach with `tty`): the client reads no
 * keys and gets no output on the socket until LaneEnded.
 */
export const Attached = z.object({ type: z.literal("Attached"), session: SessionInfo, lane: z.boolean().optional() });
/** The node stopped serving the client's terminal directly: keys and output go through the socket from now on. */
export const LaneEnded = z.object({ type: z.literal("LaneEnded") });
/** Sent to an attached client when its attachment ends (session exited, detached, node stopping). */
export const AttachEnded = z.object({
  type: z.literal("AttachEnded"),
  reason: z.enum(["detached", "exited", "killed", "node_stopping"]),
  session: SessionInfo,
  /**
   * For the client's terminal, after the client's own reset: the modes this session set, back to
   * their defaults, and the cursor on a clean line below what the program drew.
   */
  restore: z.string().max(16384).optional(),
});
export const Killed = z.object({ type: z.literal("Killed"), ids: z.array(z.number()) });
export const KilledAll = z.object({ type: z.literal("KilledAll"), ids: z.array(z.number()) });
/** Precedes a log stream of data frames; `from_offset` is the first byte's offset in the output. */
export const LogData = z.object({ type: z.literal("LogData"), session: SessionInfo, from_offset: z.number(), truncated: z.boolean() });
/** Ends a stream of data frames (logs, watch). */
export const StreamEnd = z.object({ type: z.literal("StreamEnd"), reason: z.enum(["done", "exited", "timeout"]), session: SessionInfo.optional() });
/**
 * `submit`, when Enter was asked for on a terminal: verified (the text left the program's input
 * line), unconfirmed (it never showed there, so whether it was taken is unknown), failed (still
 * there after Enter twice). Absent when there was nothing to check (pipes, Enter alone).
 */
export const InputSent = z.object({ type: z.literal("InputSent"), bytes: z.number(), submit: z.enum(["verified", "unconfirmed", "failed"]).optional() });
export const SessionStatusReply = z.object({
  type: z.literal("SessionStatus"),
  session: SessionInfo,
  recent_output: z.string(),
  log_path: z.string(),
});
export const ScreenText = z.object({
  type: z.literal("ScreenText"),
  session: SessionInfo,
  lines: z.array(z.string()),
  cursor: z.object({ x: z.number().int(), y: z.number().int() }),
  /** True when a full-screen program (alternate screen) is showing. */
  alt: z.boolean(),
});
/** One watched chunk; `session_id` labels it when several sessions are watched. */
export const WatchUpdate = z.object({
  type: z.literal("WatchUpdate"),
  session_id: z.number(),
  session_name: z.string().optional(),
  output: z.string().optional(),
  /** The output's bytes, base64 (WatchSession with `bytes`). */
  output_b64: z.string().optional(),
  status: SessionInfo.optional(),
});
export const SubscribeAck = z.object({ type: z.literal("SubscribeAck") });
export const Event = z.object({ type: z.literal("Event"), event: SessionEvent });
export const WaitResult = z.object({
  type: z.literal("WaitResult"),
  sessions: z.array(SessionInfo),
  timed_out: z.boolean(),
});
/** A hook event was taken in: the session's agent state after it. */
export const HookAccepted = z.object({ type: z.literal("HookAccepted"), agent_state: AgentState });
/** The node's connection to its relay; null when this machine has no relay (`cw setup`). */
export const RelayState = z.object({
  type: z.literal("RelayState"),
  relay: z
    .object({
      state: z.enum(["connecting", "connected", "disconnected", "stopped"]),
      url: z.string(),
      node: z.string().optional(),
      since: z.string(),
      error: z.string().optional(),
    })
    .nullable(),
  /**
   * Keys in this node's own kv store, which the relay's store replaces for `cw kv`: `cw setup`
   * says they stay there (`cw kv --local`) rather than let them vanish from view.
   */
  local_kv_keys: z.number().int().optional(),
});
export const ErrorReply = z.object({
  type: z.literal("Error"),
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  /**
   * For bad_request: what failed validation, by field of the request (`id`, `tags`, `body`), so
   * a client can say it in its own words (the CLI names its flag). Nodes before it sent none.
   */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorReply = z.infer<typeof ErrorReply>;

export const Reply = z.discriminatedUnion("type", [
  Pong,
  ShuttingDown,
  SessionList,
  SessionTable,
  Launched,
  Attached,
  LaneEnded,
  AttachEnded,
  Killed,
  KilledAll,
  LogData,
  StreamEnd,
  InputSent,
  SessionStatusReply,
  ScreenText,
  WatchUpdate,
  SubscribeAck,
  Event,
  WaitResult,
  HookAccepted,
  RelayState,
  ErrorReply,
  ...MESSAGE_REPLIES,
  ...PEER_REPLIES,
]);
export type Reply = z.infer<typeof Reply>;
export type ReplyOf<T extends Reply["type"]> = Extract<Reply, { type: T }>;
