/** What every PTY backend provides (pty.ts chooses one). */
import { constants as osConstants } from "node:os";
import { EOT } from "../../protocol/constants";

export interface PtySpawnOptions {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

export interface PtyExit {
  /** Exit status, 128 + the signal's number for a program a signal ended (as shells report it); null when unknown. */
  exitCode: number | null;
}

/**
 * The exit status of a process from Bun.spawn. A signal's end is reported as 128 + its number,
 * as a shell's `$?` does, so `kill -TERM` reads 143 rather than nothing at all or a failure.
 */
export function exitStatus(proc: { exitCode: number | null; signalCode: NodeJS.Signals | number | null }): number | null {
  if (proc.exitCode !== null) return proc.exitCode;
  const sig = proc.signalCode;
  const n = typeof sig === "number" ? sig : sig ? osConstants.signals[sig] : undefined;
  return n === undefined ? null : 128 + n;
}

export interface Pty {
  /** False for a program on pipes (pipes.ts): no size, no terminal queries to answer. */
  readonly terminal: boolean;
  readonly pid: number;
  readonly isExited: boolean;
  /**
   * Output, as raw bytes, in order. A chunk is valid only while its listeners run: one that needs
   * the bytes later copies them (not with slice(), which on a Buffer is a view). The Bun backend
   * frees each chunk as soon as its listeners return (bun-terminal.ts: releaseChunk).
   */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** The child exited and its output has been delivered. */
  onExit(listener: (e: PtyExit) => void): void;
  write(data: Uint8Array | string): void;
  /** The client's input has ended: end of file on a pipe, ^D (what a person types) on a terminal. */
  endInput(): void;
  resize(cols: number, rows: number): void;
  /** Signals the child's whole process group (the child leads a session of its own). */
  signal(sig: NodeJS.Signals): void;
}

/**
 * A PTY whose reading the node can hand to its lane thread (lane/worker.ts) while a local attach
 * is served there, and take back: one reader at a time, or its output would be split.
 */
export interface HandOverPty extends Pty {
  /** Names the PTY to the lane thread (bun-pty's native handle; negative for Bun's PTY). */
  readonly handle: number;
  /**
   * A descriptor of the caller's own to read the PTY's master with read(2) (Bun's PTY), -1 when
   * it cannot be had, or undefined when the lane thread reads through bun-pty's handle instead.
   */
  dupReader(): number | undefined;
  /** A descriptor of the caller's own to write keys to the master with write(2), or -1. */
  dupMaster(): number;
  /** Stops the node's own reading; false when it cannot now (then nothing changed). */
  giveReading(): boolean;
  /** The node reads the PTY again (after giveReading). */
  takeReading(): void;
  /** Output the lane thread read, in order. */
  received(chunk: Uint8Array): void;
  /**
   * Called before input from anywhere else (another client, `cw send`) is written while the
   * reading is given away: its echo is on its way to the lane thread.
   */
  onInputWhileGiven?: () => void;
  /** The lane thread read the PTY's end: the node finishes the session the way it would have. */
  readerEnded(): void;
}

export function isHandOverPty(pty: Pty | undefined): pty is HandOverPty {
  return pty !== undefined && typeof (pty as Partial<HandOverPty>).giveReading === "function";
}

export class PtySpawnError extends Error {}

/**
 * What every backend does alike: hand output and the exit to whoever listens, signal the child's
 * process group, and end input as a person at a terminal would (pipes.ts overrides that).
 */
export abstract class ChildBase {
  abstract readonly pid: number;
  abstract write(data: Uint8Array | string): void;
  /** Set by the backend once the child is gone (possibly before its exit is reported). */
  protected exited = false;
  private dataListeners: ((chunk: Uint8Array) => void)[] = [];
  private exitListeners: ((e: PtyExit) => void)[] = [];

  onData(listener: (chunk: Uint8Array) => void): void {
    this.dataListeners.push(listener);
  }

  onExit(listener: (e: PtyExit) => void): void {
    this.exitListeners.push(listener);
  }

  get isExited(): boolean {
    return this.exited;
  }

  protected emitData(chunk: Uint8Array): void {
    for (const l of this.dataListeners) l(chunk);
  }

  protected emitExit(e: PtyExit): void {
    for (const l of this.exitListeners) l(e);
  }

  endInput(): void {
    this.write(EOT);
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exited) signalGroup(this.pid, sig);
  }
}

/** Signals the process group led by `pid`, or the process alone when it leads none. */
export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}
