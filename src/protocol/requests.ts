/**
 * Every request a client can send to a node. One request per connection: the first control
 * frame names it with `type`; the node answers once or streams (see replies.ts).
 */
import { z } from "zod";
import { EventType } from "./events";
import { MESSAGE_REQUESTS } from "./messages";
import { PEER_REQUESTS } from "./peers";
import { AGENT_NAMES } from "./constants";
import { SessionName, SessionRef, SessionStatus, Tag } from "./session";

const base = { protocol: z.number().int().optional() };
const Size = { cols: z.number().int().min(1).max(2000).default(80), rows: z.number().int().min(1).max(1000).default(24) };

export const Ping = z.object({ type: z.literal("Ping"), ...base });
export const Shutdown = z.object({ type: z.literal("Shutdown"), ...base });

export const ListSessions = z.object({
  type: z.literal("ListSessions"),
  ...base,
  status: SessionStatus.optional(),
  tags: z.array(Tag).optional(),
  /**
   * Reply with the table `cw list` prints (SessionTable) instead of the sessions: the node, warm,
   * draws it faster than a client that starts cold decodes and lays out every session (as tmux's
   * server formats `ls`).
   */
  table: z
    .object({
      /** Longest COMMAND shown (nodes before line_width fit only this). */
      width: z.number().int().min(8).max(10_000),
      colour: z.boolean(),
      /** The terminal's width: COMMAND (then TAGS) is cut so that a row fits it, as ps does. Absent: no limit. */
      line_width: z.number().int().min(20).max(10_000).optional(),
    })
    .optional(),
});

export const Launch = z.object({
  type: z.literal("Launch"),
  ...base,
  command: z.array(z.string()).min(1, { message: "a command to run is required (cw launch -- <command>)" }),
  name: SessionName.optional(),
  /** Absent: the node's home directory. Relative paths and a leading ~ are the node's home too. */
  working_dir: z.string().min(1).optional(),
  tags: z.array(Tag).max(32).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /**
   * "caller": `env` is the session's whole environment (a local client sends its own).
   * "node": `env` is added to the node's environment (a remote client's own environment means
   * nothing on the node's machine).
   */
  env_from: z.enum(["caller", "node"]).default("caller"),
  /**
   * false: the program gets pipes instead of a terminal (as `ssh host cmd` without -t): output
   * byte for byte, no echo of input, and EndInput is a real end of file.
   */
  terminal: z.boolean().default(true),
  ...Size,
});

export const Attach = z.object({
  type: z.literal("Attach"),
  ...base,
  id: SessionRef,
  /** Paint the session's current screen (and scrollback) before live output. */
  history: z.boolean().default(true),
  /**
   * The client's terminal (/dev/pts/N), when it runs on the node's machine: the node may then
   * serve that terminal itself (a lane, node/lane/) and say so in Attached.
   */
  tty: z.string().max(64).optional(),
  /**
   * Names the client's terminal window across attaches (its tty and the process that owns it):
   * a terminal that already holds the session's history in its scrollback is not sent it again.
   */
  terminal_id: z.string().max(200).optional(),
  ...Size,
});
/** Sent by an attached client on the same connection. */
export const Resize = z.object({ type: z.literal("Resize"), ...Size });
export const Detach = z.object({ type: z.literal("Detach") });
/** Sent by an attached client: its input has ended (end of file on pipes, ^D on a terminal). */
export const EndInput = z.object({ type: z.literal("EndInput") });

/**
 * The signal sent to every process of the session, alone; SIGKILL follows for what is left after
 * the grace period. Absent: a hangup (SIGHUP, then SIGTERM), which also ends shells.
 */
const KillSignal = z.enum(["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP"]).optional();
export const Kill = z.object({ type: z.literal("Kill"), ...base, id: SessionRef, signal: KillSignal });
export const KillAll = z.object({ type: z.literal("KillAll"), ...base, signal: KillSignal });
export const KillByTags = z.object({ type: z.literal("KillByTags"), ...base, tags: z.array(Tag).min(1), signal: KillSignal });

export const Logs = z.object({
  type: z.literal("Logs"),
  ...base,
  id: SessionRef,
  follow: z.boolean().default(false),
  /** Only the last N lines; read from the end of the log, never the whole file. */
  tail_lines: z.number().int().positive().optional(),
  /**
   * Text as a person reads it on the session's terminal, not the bytes: data frames then carry
   * UTF-8 lines, each ending in \n, rendered by a terminal model (escape sequences applied).
   */
  plain: z.boolean().default(false),
});

export const SendInput = z.object({
  type: z.literal("SendInput"),
  ...base,
  id: SessionRef,
  /** Text to type; base64 in `data_b64` for arbitrary bytes. */
  data: z.string().optional(),
  data_b64: z.string().optional(),
  /**
   * The data ends with Enter as a terminal sends it (a carriage return), which the node turns into
   * a newline for a program on pipes. (The client appends the CR itself, so a node that predates
   * this field still presses Enter on a terminal.)
   */
  enter: z.boolean().default(false),
  /**
   * The bytes exactly as given: no Enter, no paste, newlines not turned into the CRs a terminal
   * sends. (Without it, on a terminal each newline becomes a CR; with `enter` the node submits the
   * text as pty-delivery.ts describes.)
   */
  raw: z.boolean().default(false),
});

export const GetStatus = z.object({
  type: z.literal("GetStatus"),
  ...base,
  id: SessionRef,
  recent_lines: z.number().int().min(0).max(1000).default(10),
});

/** The session's screen as it looks now, rendered to plain text (what `attach` would paint). */
export const GetScreen = z.object({ type: z.literal("GetScreen"), ...base, id: SessionRef });

export const WatchSession = z.object({
  type: z.literal("WatchSession"),
  ...base,
  id: SessionRef.optional(),
  tags: z.array(Tag).optional(),
  tail_lines: z.number().int().positive().optional(),
  history: z.boolean().default(true),
  timeout_s: z.number().positive().optional(),
  /** Each update's output is whole lines of text (each ending in \n), rendered by a terminal model. */
  plain: z.boolean().default(false),
  /** Output as the bytes the program wrote (WatchUpdate.output_b64), not decoded text (not with plain). */
  bytes: z.boolean().default(false),
});

export const Subscribe = z.object({
  type: z.literal("Subscribe"),
  ...base,
  session: SessionRef.optional(),
  tags: z.array(Tag).optional(),
  events: z.array(EventType).optional(),
});

export const Wait = z.object({
  type: z.literal("Wait"),
  ...base,
  ids: z.array(SessionRef).default([]),
  tags: z.array(Tag).optional(),
  condition: z.enum(["all", "any"]).default("all"),
  timeout_s: z.number().positive().optional(),
  /**
   * Wait for the sessions' agents to reach this state instead of for the sessions to end. Sessions
   * that end first cannot reach it: the wait then ends with the condition unmet.
   */
  state: z.enum(["needs-input", "idle"]).optional(),
});

/**
 * An agent's hook fired inside a session (`cw hook <agent> <event>`): the node maps it to a
 * state (node/agents/). `fields`: the hook's top-level scalar fields, cut short; enough to tell
 * one notification from another, never the transcript or a tool's output.
 */
export const HookEvent = z.object({
  type: z.literal("HookEvent"),
  ...base,
  id: SessionRef,
  agent: z.enum(AGENT_NAMES),
  event: z.string().min(1).max(64),
  fields: z.record(z.string(), z.union([z.string().max(500), z.number(), z.boolean(), z.null()])).default({}),
});

/** Re-read relay.toml and (re)connect to the relay; answered with the connection's state. */
export const RelayConnect = z.object({ type: z.literal("RelayConnect"), ...base });
export const RelayStatus = z.object({ type: z.literal("RelayStatus"), ...base });

export const Request = z.discriminatedUnion("type", [
  Ping,
  Shutdown,
  ListSessions,
  Launch,
  Attach,
  Kill,
  KillAll,
  KillByTags,
  Logs,
  SendInput,
  GetStatus,
  GetScreen,
  WatchSession,
  Subscribe,
  Wait,
  HookEvent,
  RelayConnect,
  RelayStatus,
  ...MESSAGE_REQUESTS,
  ...PEER_REQUESTS,
]);
export type Request = z.infer<typeof Request>;
export type RequestType = Request["type"];
export type RequestOf<T extends RequestType> = Extract<Request, { type: T }>;
/** What a caller writes: defaults may be left out. */
export type RequestInput<T extends RequestType> = Extract<z.input<typeof Request>, { type: T }>;
export const REQUEST_TYPES = Request.options.map((o) => o.shape.type.value) as RequestType[];

export const AttachControl = z.discriminatedUnion("type", [Resize, Detach, EndInput]);
export type AttachControl = z.infer<typeof AttachControl>;
