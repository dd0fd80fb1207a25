/**
 * The bun-pty backend: a child on a PTY from bun-pty's native library. Its native side reads each
 * PTY on threads of its own into a channel that poller.ts polls.
 */
import { addPollable, kick, removePollable, type Pollable } from "./poller";
import { cstr, native, ptr, shellWord } from "./native";
import { withEnvironOnly } from "../../sys/environ";
import { ChildBase, type HandOverPty, type PtyExit, PtySpawnError, type PtySpawnOptions } from "./types";

export class BunPty extends ChildBase implements HandOverPty, Pollable {
  readonly terminal = true;
  readonly handle: number;
  readonly pid: number;

  constructor(opts: PtySpawnOptions) {
    super();
    const lib = native();
    const cmdline = opts.command.map(shellWord).join(" ");
    const env = Object.entries(opts.env)
      .map(([k, v]) => `${k}=${v}`)
      .join("\0");
    // The native side starts from the node's own environment: narrow it to the session's.
    this.handle = withEnvironOnly(opts.env, () =>
      lib.bun_pty_spawn(cstr(cmdline), cstr(opts.cwd), cstr(env.length ? `${env}\0` : ""), opts.cols, opts.rows),
    );
    if (this.handle < 0) throw new PtySpawnError(`could not start ${opts.command[0]}`);
    this.pid = lib.bun_pty_get_pid(this.handle);
    addPollable(this);
  }

  received(chunk: Uint8Array): void {
    this.emitData(chunk);
  }

  /** The lane thread reads through the native handle, as the poller does. */
  dupReader(): undefined {
    return undefined;
  }

  /** Keys go through the native handle too. */
  dupMaster(): number {
    return -1;
  }

  giveReading(): boolean {
    removePollable(this);
    return true;
  }

  takeReading(): void {
    if (!this.exited) addPollable(this);
  }

  readerEnded(): void {
    this.nativeEnded();
  }

  write(data: Uint8Array | string): void {
    if (this.exited) return;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    if (bytes.length === 0) return;
    native().bun_pty_write(this.handle, ptr(bytes), bytes.length);
    kick();
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    native().bun_pty_resize(this.handle, Math.max(1, cols | 0), Math.max(1, rows | 0));
  }


  nativeEnded(): void {
    this.exited = true;
    removePollable(this);
    const lib = native();
    // The native wait-thread stores the exit status; it may trail the reader's end-of-file by a
    // moment, so look again briefly before giving up.
    let tries = 0;
    const finish = () => {
      const code = lib.bun_pty_get_exit_code(this.handle);
      if (code < 0 && tries++ < 50) {
        setTimeout(finish, 10);
        return;
      }
      lib.bun_pty_close(this.handle);
      const e = { exitCode: code < 0 ? null : code };
      this.emitExit(e);
    };
    finish();
  }
}
