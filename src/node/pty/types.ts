/** What every PTY backend provides (pty.ts chooses one). */

export interface PtySpawnOptions {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

export interface PtyExit {
  /** Exit status; null when it could not be determined (killed by a signal). */
  exitCode: number | null;
}

export interface Pty {
  readonly pid: number;
  readonly isExited: boolean;
  /** Output, as raw bytes, in order. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** The child exited and its output has been delivered. */
  onExit(listener: (e: PtyExit) => void): void;
  write(data: Uint8Array | string): void;
  resize(cols: number, rows: number): void;
  /** Signals the child's whole process group (the child leads a session of its own). */
  signal(sig: NodeJS.Signals): void;
}

export class PtySpawnError extends Error {}

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
