/**
 * What every MCP tool shares: how it is declared, how its result is shaped (text for the model,
 * structured content for programs), how errors become tool errors with a hint, and progress.
 */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import { NodeError, NodeUnavailableError } from "../client/errors";
import { relayTarget, type RemoteTarget, remoteTarget, setTargetScope } from "../client/remote-target";
import { dataDir } from "../config/paths";
import { NODE_NAME_RE } from "../protocol/constants";

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  /** Aborted when the client cancels the call (or disconnects). */
  signal: AbortSignal;
  /** Reports progress when the client asked for it (sent a progressToken); otherwise a no-op. */
  progress(progress: number, total: number | undefined, message: string): void;
}

export interface ToolOutput<O> {
  /** What the model reads: complete enough to act on without the structured content. */
  text: string;
  data: O;
}

export interface ToolDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations?: ToolAnnotations;
  /** False for a tool that is not about one node's sessions (it gets no `node` argument). */
  onAnyNode?: boolean;
  run(args: z.output<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolOutput<z.input<z.ZodObject<O>>>>;
}

/** The argument every node tool takes: act on another node of this machine's relay. */
export const NodeArgument = {
  node: z
    .string()
    .regex(NODE_NAME_RE)
    .optional()
    .describe("Act on this node of the relay instead (codewire_list_nodes lists them). Default: the node this server talks to."),
};

/** Which node a tool call is for, while it runs (async calls may overlap). */
const callScope = new AsyncLocalStorage<RemoteTarget | null>();
setTargetScope(() => callScope.getStore());

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

/** A mistake in how a tool was called, reported with what to do instead. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Hints for an agent that talks MCP: name the tool to call, not (only) the shell command. */
const MCP_HINTS: Record<string, string> = {
  not_found: "call codewire_list_sessions to see the sessions, their ids and names",
  not_running: "the session has ended; codewire_read_session_output shows what it printed",
  name_taken: "pick another name, or end that session with codewire_kill_session",
};

export function toolError(e: unknown): CallToolResult {
  let text: string;
  if (e instanceof NodeError) {
    const hints = [MCP_HINTS[e.code], e.hint].filter(Boolean);
    text = `error (${e.code}): ${e.message}${hints.length ? `\nhint: ${hints.join("; or ")}` : ""}`;
  } else if (e instanceof ToolError || e instanceof NodeUnavailableError) {
    text = `error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ""}`;
  } else {
    text = `error: ${(e as Error)?.message ?? String(e)}\nhint: this is unexpected; the node's log (node.log in $CODEWIRE_HOME) may say more`;
  }
  return { isError: true, content: [{ type: "text", text }] };
}

/** Runs a tool: its output checked against (and trimmed to) its schema, its failures as tool errors. */
export async function runTool(def: ToolDef, args: unknown, extra: Extra): Promise<CallToolResult> {
  const progress = progressSender(extra);
  try {
    const { node, ...rest } = (args ?? {}) as { node?: string };
    const run = () => def.run(rest as never, { signal: extra.signal, progress: progress.send });
    const out = node === undefined || def.onAnyNode === false ? await run() : await callScope.run(relayTarget(node, dataDir()), run);
    // A progress notification sent after the result would be dropped by the client.
    await progress.flushed();
    // Parsing drops fields the schema does not name, so a newer node cannot break a client
    // that validates structured content strictly.
    const data = z.object(def.output).parse(out.data) as Record<string, unknown>;
    return { content: [{ type: "text", text: out.text }], structuredContent: data };
  } catch (e) {
    return toolError(e);
  }
}

/** Time left between a progress notification and the result that follows it (see flushed). */
const PROGRESS_GAP_MS = 25;

function progressSender(extra: Extra): { send: ToolContext["progress"]; flushed: () => Promise<unknown> } {
  const token = extra._meta?.progressToken;
  if (token === undefined) return { send: () => {}, flushed: async () => {} };
  let last = -1;
  let lastAt = Number.NEGATIVE_INFINITY;
  let sent: Promise<unknown> = Promise.resolve();
  return {
    send: (progress, total, message) => {
      // The spec requires progress to increase with every notification.
      const value = Math.max(progress, last + 0.001);
      last = value;
      lastAt = performance.now();
      const n = extra
        .sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: value, ...(total !== undefined ? { total } : {}), message } })
        .catch(() => {});
      sent = Promise.all([sent, n]);
    },
    // The SDK's client handles a notification a microtask later but a response at once, and
    // forgets the progress handler with the response: when both arrive in one read, the
    // progress is dropped. Leaving a moment between the last progress and the result lets the
    // client read them apart (seen as a lost progress report in a loaded test run).
    flushed: async () => {
      await sent;
      const wait = lastAt + PROGRESS_GAP_MS - performance.now();
      if (wait > 0) await Bun.sleep(wait);
    },
  };
}

/** A number of seconds: default, bounds, and the words the model reads about them. */
export function seconds(what: string, dflt: number, max: number) {
  return z.number().positive().max(max).default(dflt).describe(`${what} Default ${dflt}, at most ${max}.`);
}

/**
 * Reports elapsed time as progress every `everyMs` while a wait runs; `message` says what is
 * awaited. Returns a stop function.
 */
export function ticker(ctx: ToolContext, totalS: number, message: () => string, everyMs = 2000): { stop(): void; elapsedS(): number } {
  const started = Date.now();
  const elapsedS = () => Math.round((Date.now() - started) / 100) / 10;
  // One report at once, so the client knows the wait has begun, then one every `everyMs`.
  ctx.progress(0, totalS, message());
  const timer = setInterval(() => ctx.progress(elapsedS(), totalS, message()), everyMs);
  return { stop: () => clearInterval(timer), elapsedS };
}

/** The last `maxBytes` of `text`, cut at a line start when one is near; and whether it cut. */
export function keepEnd(text: string, maxBytes: number): { text: string; cut: boolean } {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= maxBytes) return { text, cut: false };
  let tail = buf.subarray(buf.length - maxBytes).toString("utf8").replace(/^\uFFFD+/, "");
  const nl = tail.indexOf("\n");
  if (nl >= 0 && nl < 200) tail = tail.slice(nl + 1);
  return { text: tail, cut: true };
}

/**
 * Who is asking: the session this MCP server runs inside (CW_SESSION_ID), if any. On another
 * node that id means nothing (or another session), so there the caller is the user.
 */
export function callerSession(): number | undefined {
  if (remoteTarget()) return undefined;
  const id = Number(process.env.CW_SESSION_ID);
  return Number.isInteger(id) && id > 0 ? id : undefined;
}
