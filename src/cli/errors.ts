/** The one place where errors become what the user reads and the exit status. */
import { NodeError, NodeUnavailableError } from "../client/errors";
import { err as writeErr, red } from "./output";

export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3, timeout: 124, interrupted: 130 } as const;

/** A mistake in how a command was called. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A command that was called right but could not do its job (a file it cannot read): exit 1. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Ends the command with a given status, having already printed what it had to. */
export class ExitWith extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/**
 * What the user typed that became a request's field, by field name: the node validates requests
 * with the protocol's schemas and names fields (`id`, `tags.0`); the user knows the flag.
 * Per command where the same field comes from a different place.
 */
const FIELD_WORDS: Record<string, string> = {
  id: "<session>",
  ids: "<session>",
  session: "<session>",
  to: "<target>",
  from: "--from",
  tags: "--tag",
  body: "<body>",
  key: "<key>",
  value: "<value>",
  prefix: "<prefix>",
  ns: "--ns",
  ttl_s: "--ttl",
  name: "--name",
  working_dir: "--dir",
  env: "--env",
  command: "the command",
  tail_lines: "--tail",
  tail: "--tail",
  timeout_s: "--timeout",
  request_id: "<request>",
};
const COMMAND_FIELD_WORDS: Record<string, Record<string, string>> = {
  listen: { session: "--session" },
  subscribe: { session: "--session" },
  status: { recent_lines: "--lines" },
};

function fieldWords(cmd: string | undefined, path: string): string {
  const field = path.split(".")[0]!;
  return (cmd ? COMMAND_FIELD_WORDS[cmd]?.[field] : undefined) ?? FIELD_WORDS[field] ?? field;
}

/**
 * Which codes are whose fault. The README's table: 1 error, 2 bad usage (how the command was
 * called), 3 no such session.
 */
function exitFor(code: string): number {
  if (code === "not_found") return EXIT.notFound;
  if (code === "bad_request" || code === "invalid_name") return EXIT.usage;
  return EXIT.error;
}

/** @param cmd The command that ran, to name its flags in messages about what was given. */
export function report(e: unknown, cmd?: string): number {
  if (e instanceof ExitWith) return e.status;
  const say = (msg: string, hint?: string) => {
    writeErr(`${red("error:", 2)} ${msg}\n`);
    if (hint) writeErr(`hint: ${hint}\n`);
  };
  if (e instanceof UsageError) {
    say(e.message, e.hint);
    return EXIT.usage;
  }
  if (e instanceof NodeError) {
    if (e.code === "bad_request" && e.issues?.length) {
      // The node's schema refused a value the user gave: say which, in the command's terms.
      const lines = e.issues.map((i) => `${fieldWords(cmd, i.path)}: ${i.message}`);
      say(lines.join("\n       "), e.hint ?? (cmd ? `run \`cw ${cmd} --help\` for what it takes` : undefined));
      return EXIT.usage;
    }
    say(e.message, e.hint);
    return exitFor(e.code);
  }
  if (e instanceof NodeUnavailableError || e instanceof CommandError) {
    say(e.message, e.hint);
    return EXIT.error;
  }
  const err = e as Error & { hint?: unknown };
  // Another typed error that carries advice (e.g. the relay's RelayStartError) shows it.
  const hint = typeof err?.hint === "string" ? err.hint : undefined;
  say(err?.message ?? String(e), process.env.CW_DEBUG ? err?.stack : (hint ?? "set CW_DEBUG=1 for details"));
  return EXIT.error;
}
