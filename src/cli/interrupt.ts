/**
 * Commands that run until the user stops them (watch, logs -f, subscribe, listen): Ctrl+C ends
 * them with 130, as a shell reports a program that SIGINT ended, so that `cw watch 1 && next`
 * never reads an interruption as "the session ended"; and a stream that the node ended by going
 * away is said, with exit 1, rather than passed off as a normal end.
 */
import { EXIT } from "./errors";
import { err, red } from "./output";

export interface Interruptible {
  /** Ctrl+C was pressed. */
  readonly interrupted: boolean;
}

/** Closes `conn` on Ctrl+C and remembers that it did. */
export function closeOnInterrupt(conn: { close(): void }): Interruptible {
  const state = { interrupted: false };
  process.once("SIGINT", () => {
    state.interrupted = true;
    conn.close();
  });
  return state;
}

/** The connection ended without the node saying the stream was done: the node stopped or the path to it broke. */
export function streamLost(what: string): number {
  err(`${red("error:", 2)} the connection to the node ended (the node stopped, or the path to it broke); ${what}\nhint: \`cw start\` starts it again (another command does too), then run this again\n`);
  return EXIT.error;
}

export const INTERRUPTED = EXIT.interrupted;
