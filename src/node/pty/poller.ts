/**
 * One poll loop for every PTY of the node.
 *
 * bun-pty's native side reads each PTY on its own thread into a channel; JS has to poll that
 * channel. Polling cadence adapts: right after input or output we poll on every event-loop turn
 * (so keystroke echo is not delayed by a timer), then back off step by step while a terminal is
 * quiet, so a hundred idle sessions cost next to nothing.
 */
import { native, ptr, READ_EXITED, READ_NONE } from "./native";

export interface Pollable {
  readonly handle: number;
  onData(chunk: Uint8Array): void;
  onNativeEnd(): void;
}

const BUF_SIZE = 64 * 1024;
/** Cap per terminal per turn, so one flooding session cannot starve the others or the sockets. */
const MAX_PER_TURN = 1024 * 1024;
const HOT_MS = 30;

const buf = Buffer.allocUnsafe(BUF_SIZE);
const bufPtr = ptr(buf);
const members = new Set<Pollable>();
let lastActivity = 0;
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
  lastActivity = performance.now();
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
        p.onData(new Uint8Array(buf.subarray(0, n)));
        continue;
      }
      if (n === READ_EXITED || (n < 0 && n !== READ_NONE)) {
        members.delete(p);
        p.onNativeEnd();
      }
      break;
    }
    if (got > 0) any = true;
  }
  const now = performance.now();
  if (any) lastActivity = now;
  if (members.size === 0) return;
  const idle = now - lastActivity;
  if (idle < HOT_MS) {
    immediate = true;
    setImmediate(turn);
    return;
  }
  const delay = idle < 250 ? 1 : idle < 2000 ? 4 : 10;
  scheduled = setTimeout(turn, delay);
}
