/**
 * A program without a terminal: stdin, stdout and stderr are pipes (Launch with
 * `terminal: false`). What `ssh relay 'command'` without -t needs: output comes out byte for
 * byte (no CR added before each LF), input is not echoed back, and the end of input is a real
 * end of file, not a ^D the program may read as data. stdout and stderr share the session's one
 * output stream, in the order they are read.
 *
 * The child leads a session of its own (setsid), so kill reaches its whole process group, as it
 * does for PTY sessions.
 */
import { ChildBase, exitStatus, type Pty, type PtyExit, PtySpawnError, type PtySpawnOptions } from "./types";

/** After the child exits, how long its pipes may stay open (a background process holding them). */
const DRAIN_GRACE_MS = 200;

export class PipeProcess extends ChildBase implements Pty {
  readonly terminal = false;
  readonly pid: number;
  private readonly proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  private inputEnded = false;

  constructor(opts: PtySpawnOptions) {
    super();
    try {
      this.proc = Bun.spawn(opts.command, { cwd: opts.cwd, env: opts.env, stdin: "pipe", stdout: "pipe", stderr: "pipe", detached: true });
    } catch (e) {
      throw new PtySpawnError(`could not start ${opts.command[0]}: ${(e as Error).message}`);
    }
    this.pid = this.proc.pid;
    const drained = Promise.all([this.read(this.proc.stdout), this.read(this.proc.stderr)]);
    void this.proc.exited.then(async () => {
      await Promise.race([drained, Bun.sleep(DRAIN_GRACE_MS)]);
      this.exited = true;
      const e: PtyExit = { exitCode: exitStatus(this.proc) };
      this.emitExit(e);
    });
  }

  private async read(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream) {
        if (this.exited) break;
        this.emitData(chunk);
      }
    } catch {
      /* the pipe broke: the child is gone */
    }
  }

  write(data: Uint8Array | string): void {
    if (this.exited || this.inputEnded || data.length === 0) return;
    try {
      this.proc.stdin.write(data);
      this.settle(this.proc.stdin.flush());
    } catch {
      this.inputEnded = true;
    }
  }

  override endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    try {
      this.settle(this.proc.stdin.end());
    } catch {
      /* already closed */
    }
  }

  /**
   * A write that fails later (EPIPE: the child closed its stdin) means input has nowhere to go,
   * as with a real pipe: later input is dropped, and nothing is left unhandled.
   */
  private settle(r: unknown): void {
    if (r instanceof Promise)
      r.catch(() => {
        this.inputEnded = true;
      });
  }

  /** No terminal, no size. */
  resize(): void {}

}
