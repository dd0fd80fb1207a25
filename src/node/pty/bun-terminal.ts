/**
 * The Bun backend: a child on a PTY from Bun.spawn's `terminal` option. Bun's event loop reads
 * the PTY itself, so output arrives as an event: no native threads per session, nothing to poll,
 * no busy wait for a keystroke's echo.
 */
import { ChildBase, exitStatus, type Pty, type PtyExit, PtySpawnError, type PtySpawnOptions } from "./types";

/**
 * After the child exits, how long to wait for the PTY's end of file (all output read) before
 * calling the session over anyway: a background process the child left behind can hold the
 * terminal open for as long as it lives.
 */
const DRAIN_GRACE_MS = 200;

export function bunTerminalAvailable(): boolean {
  return process.platform !== "win32" && typeof (Bun as { Terminal?: unknown }).Terminal === "function";
}

export class BunTerminalPty extends ChildBase implements Pty {
  readonly terminal = true;
  readonly pid: number;
  private readonly proc: Bun.Subprocess;
  private readonly term: Bun.Terminal;
  private eof = false;
  private endEof?: () => void;

  constructor(opts: PtySpawnOptions) {
    super();
    try {
      this.proc = Bun.spawn(opts.command, {
        cwd: opts.cwd,
        env: opts.env,
        terminal: {
          cols: Math.max(1, opts.cols | 0),
          rows: Math.max(1, opts.rows | 0),
          ...(opts.env.TERM ? { name: opts.env.TERM } : {}),
          data: (_t, chunk) => {
            this.emitData(chunk);
          },
          // The PTY reached end of file: every process holding it has closed it, all output is read.
          exit: () => {
            this.eof = true;
            this.endEof?.();
          },
        },
      });
    } catch (e) {
      throw new PtySpawnError(`could not start ${opts.command[0]}: ${(e as Error).message}`);
    }
    this.term = this.proc.terminal!;
    this.pid = this.proc.pid;
    void this.proc.exited.then(() => this.finish());
  }

  private async finish(): Promise<void> {
    if (!this.eof) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_GRACE_MS);
        this.endEof = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.exited = true;
    const e: PtyExit = { exitCode: exitStatus(this.proc) };
    try {
      this.term.close();
    } catch {
      /* already closed */
    }
    this.emitExit(e);
  }

  write(data: Uint8Array | string): void {
    if (this.exited || this.term.closed) return;
    if (data.length === 0) return;
    this.term.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited || this.term.closed) return;
    this.term.resize(Math.max(1, cols | 0), Math.max(1, rows | 0));
  }

}
