/** The one place where errors become what the user reads and the exit status. */
import { NodeError, NodeUnavailableError } from "../client/errors";
import { err as writeErr, red } from "./output";

export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3, timeout: 124 } as const;

/** A mistake in how a command was called. */
export class UsageError extends Error {
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

export function report(e: unknown): number {
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
    say(e.message, e.hint);
    if (e.code === "not_found") return EXIT.notFound;
    if (e.code === "bad_request" || e.code === "invalid_name") return EXIT.usage;
    return EXIT.error;
  }
  if (e instanceof NodeUnavailableError) {
    say(e.message, e.hint);
    return EXIT.error;
  }
  const err = e as Error & { hint?: unknown };
  // Another typed error that carries advice (e.g. the relay's RelayStartError) shows it.
  const hint = typeof err?.hint === "string" ? err.hint : undefined;
  say(err?.message ?? String(e), process.env.CW_DEBUG ? err?.stack : (hint ?? "set CW_DEBUG=1 for details"));
  return EXIT.error;
}
