/**
 * `cw list` as people type it (no options), answered before the command table loads.
 *
 * Why a path of its own: it is the command run most often, by people and by agents polling, and
 * a compiled binary pays at start-up for every module it evaluates. The command table, argument
 * parsing and the command's own module were ~0.5 ms of a ~4.6 ms `cw list` (`tmux ls`: 2.4 ms).
 * This path evaluates only the socket call and the output.
 *
 * It answers only the common case, a local node that draws the table. Everything else goes to
 * the ordinary command (commands/list.ts), which shares the request and the printing below:
 * no node running (it starts one), a node too old to draw the table, `--server`/CODEWIRE_SERVER.
 */
import { quickCall } from "../client/quick-call";
import { socketPath } from "../config/paths";
import type { ReplyOf } from "../protocol";
import { windowSize } from "../sys/libc";
import { dim, out, useColor } from "./output";

/**
 * How the node should draw the table for this stdout. On a terminal every row fits its width
 * (COMMAND cut with …, as ps does); piped, nothing is cut. (windowSize through libc, not
 * process.stdout.isTTY: making Bun's stdout stream costs ms.)
 */
export function tableOptions(): { width: number; colour: boolean; line_width?: number } {
  const size = windowSize(1);
  return size ? { width: Math.max(30, size.cols - 60), colour: useColor(), line_width: Math.max(20, size.cols) } : { width: 10_000, colour: useColor() };
}

/** Prints the table the node drew, or says there is nothing to list. */
export function printTable(reply: ReplyOf<"SessionTable">): void {
  out(reply.count === 0 ? dim("no sessions — start one with: cw launch -- <command>\n") : reply.text);
}

/**
 * Runs `cw list` (without options: the caller checked) when a local node answers with its
 * table; returns the exit status then, or undefined for the ordinary command to run. An error the
 * node or the socket reports is thrown, for the caller to report as any command's.
 */
export function quickList(): number | undefined {
  if (process.env.CODEWIRE_SERVER) return undefined;
  const reply = quickCall(socketPath(), { type: "ListSessions", table: tableOptions() });
  if (reply?.type !== "SessionTable") return undefined;
  printTable(reply);
  return 0;
}
