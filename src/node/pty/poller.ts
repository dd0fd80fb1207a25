/**
 * One poll loop for every PTY of the node.
 *
 * bun-pty's native side reads each PTY on its own thread into a channel; JS has to poll that
 * channel. Polling cadence adapts: right after input we poll on every event-loop turn (so a
 * keystroke's echo is not delayed by a timer); a turn that read output is followed at once by
 * another (a flood is drained without pause); otherwise the poller sleeps on a timer, longer
 * the longer the terminals were quiet.
 *
 * Why output alone never makes the loop spin: an agent redraws its spinner or status line
 * several times a second for as long as it works, and spinning for HOT_MS after each redraw kept
 * this thread busy most of the time (ten sessions with a 10 Hz spinner: 50% of a core, against
 * 1.7% for tmux's server). A redraw seen a millisecond or two late is invisible; an echo is not.
 */
import { yieldCpu } from "../../sys/libc";
import { native, ptr, READ_EXITED, READ_NONE } from "./native";

export interface Pollable {
  readonly handle: number;
  /** Output read from the PTY. */
  received(chunk: Uint8Array): void;
  /** The native side reports the child gone and its output drained. */
  nativeEnded(): void;
}

const BUF_SIZE = 64 * 1024;
/** Cap per terminal per turn, so one flooding session cannot starve the others or the sockets. */
const MAX_PER_TURN = 1024 * 1024;
const HOT_MS = 30;
/**
 * Timer steps while no keystroke is waiting for its echo: [quiet for less than ms, poll every ms].
 * Output alone is looked for every 5 ms at most, not 2: a spinner redrawing at 10 Hz kept the
 * loop at its first step for good, and ten of them cost the node's main thread 6% of a core
 * (3.7% at 5 ms). An echo does not wait for the timer (kick(), HOT_MS).
 */
const BACKOFF: readonly (readonly [number, number])[] = [
  [250, 5],
  [2000, 8],
  [Number.POSITIVE_INFINITY, 25],
];

/*
 * Why empty hot turns yield the CPU: right after input, the loop below spins on this thread
 * waiting for the echo, which bun-pty's writer thread, the program and bun-pty's reader
 * thread must first produce. The kernel tends to wake those threads on the CPU that woke them,
 * this one, where they then wait for the spinner's time slice to run out. Yielding on each
 * empty turn hands them the CPU at once: measured on 2 cores with keys 50-120 ms apart, the
 * in-process echo round trip went from p50 1.0-1.8 ms to 0.2 ms, and echo through `cw attach`
 * from p50 2.8-3.2 / p99 9.7-12.2 ms to p50 0.85-0.96 / p99 2.4-3.1 ms. Output floods are
 * unaffected: they do not yield. (Spinning also keeps this CPU awake: on a VM an idle vCPU is
 * slow to wake, and stopping the spin as soon as the echo arrived made echo p50 3x worse.)
 */

const buf = Buffer.allocUnsafe(BUF_SIZE);
const bufPtr = ptr(buf);
const members = new Set<Pollable>();
let lastActivity = 0;
/** When input was last written: within HOT_MS of it, an empty turn yields the CPU. */
let lastInput = Number.NEGATIVE_INFINITY;
let scheduled: ReturnType<typeof setTimeout> | undefined;
let immediate = false;

export function addPollable(p: Pollable): void {
  members.add(p);
  kick();
}

export function removePollable(p: Pollable): void {
  members.delete(p);
}

/** Called when input is written: output is likely to follow soon. */
export function kick(): void {
  lastActivity = lastInput = performance.now();
  if (immediate) return;
  if (scheduled) clearTimeout(scheduled);
  scheduled = undefined;
  immediate = true;
  setImmediate(turn);
}

function turn(): void {
  immediate = false;
  scheduled = undefined;
  const lib = native();
  let any = false;
  for (const p of members) {
    let got = 0;
    while (got < MAX_PER_TURN) {
      const n = lib.bun_pty_read(p.handle, bufPtr, BUF_SIZE);
      if (n > 0) {
        got += n;
        p.received(new Uint8Array(buf.subarray(0, n)));
        continue;
      }
      if (n === READ_EXITED || (n < 0 && n !== READ_NONE)) {
        members.delete(p);
        p.nativeEnded();
      }
      break;
    }
    if (got > 0) any = true;
  }
  const now = performance.now();
  if (any) lastActivity = now;
  if (members.size === 0) return;
  const typing = now - lastInput < HOT_MS;
  if (any || typing) {
    // Waiting for an echo: hand the CPU to the threads that produce it (see above).
    if (!any) yieldCpu();
    immediate = true;
    setImmediate(turn);
    return;
  }
  const idle = now - lastActivity;
  scheduled = setTimeout(turn, BACKOFF.find(([quiet]) => idle < quiet)![1]);
}
