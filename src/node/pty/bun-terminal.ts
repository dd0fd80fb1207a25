/**
 * The Bun backend: a child on a PTY from Bun.spawn's `terminal` option. Bun's event loop reads
 * the PTY itself, so output arrives as an event: no native threads per session, nothing to poll,
 * no busy wait for a keystroke's echo.
 */
import { EAGAIN, writeSome } from "../../sys/libc";
import { EpollReader } from "./epoll-reader";
import { closeFd, dupFd, mastersOf, withMasterFd } from "./master-fd";
import { ChildBase, exitStatus, type HandOverPty, type PtyExit, PtySpawnError, type PtySpawnOptions } from "./types";

/**
 * After the child exits, how long to wait for the PTY's end of file (all output read) before
 * calling the session over anyway: a background process the child left behind can hold the
 * terminal open for as long as it lives.
 */
const DRAIN_GRACE_MS = 200;
/**
 * After the child exits with the PTY's reading given away (a lane), how long to wait for it to be
 * given back (the lane thread reads the end and says so at once) before calling the session over.
 */
const HANDBACK_GRACE_MS = 1000;

/**
 * Frees a chunk Bun read from the PTY, now that every listener has run (none keeps it: see
 * Pty.onData). Bun allocates each read afresh (~128 KiB during a flood) and the collector frees
 * such buffers only in a full collection: a flood left 8-19 MiB of them in the node, more with
 * a slow client attached. Detaching the buffer frees it at once.
 */
function releaseChunk(chunk: Uint8Array): void {
  const buf = chunk.buffer;
  // Only a buffer the chunk spans alone: a view into a larger one may be shared.
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buf.byteLength || !(buf instanceof ArrayBuffer)) return;
  try {
    buf.transfer(0);
  } catch {
    /* not detachable: the collector frees it */
  }
}

export function bunTerminalAvailable(): boolean {
  return process.platform !== "win32" && typeof (Bun as { Terminal?: unknown }).Terminal === "function";
}

/** Handles of Bun's PTYs for the lane thread: negative, so never one of bun-pty's. */
let lastHandle = 0;

export class BunTerminalPty extends ChildBase implements HandOverPty {
  readonly terminal = true;
  readonly pid: number;
  readonly handle = --lastHandle;
  /** Bun's reading of the PTY, paused while the lane thread reads it (epoll-reader.ts). */
  private reader?: EpollReader;
  /**
   * The reading is given away (giveReading) and not yet taken back. Bun reads nothing of the PTY
   * meanwhile, not even at the program's exit (epoll-reader.ts: the placeholder).
   */
  private given = false;
  private whenTaken?: () => void;
  private readonly proc: Bun.Subprocess;
  private readonly term: Bun.Terminal;
  private eof = false;
  private endEof?: () => void;
  /** Our own descriptor for the PTY's master (master-fd.ts), written at once; -1: Bun's writer only. */
  private masterFd = -1;
  /** Bun's writer holds bytes not yet written: later ones go after them, through it, until it drains. */
  private bunPending = false;

  constructor(opts: PtySpawnOptions) {
    super();
    let masters: number[] = [];
    try {
      ({ value: this.proc, fd: this.masterFd, masters } = withMasterFd(() => Bun.spawn(opts.command, {
        cwd: opts.cwd,
        env: opts.env,
        terminal: {
          cols: Math.max(1, opts.cols | 0),
          rows: Math.max(1, opts.rows | 0),
          ...(opts.env.TERM ? { name: opts.env.TERM } : {}),
          data: (_t, chunk) => {
            this.emitData(chunk);
            releaseChunk(chunk);
          },
          // The PTY reached end of file: every process holding it has closed it, all output is read.
          exit: () => {
            this.eof = true;
            this.endEof?.();
          },
          drain: () => {
            this.bunPending = false;
          },
        },
      })));
    } catch (e) {
      throw new PtySpawnError(`could not start ${opts.command[0]}: ${(e as Error).message}`);
    }
    this.term = this.proc.terminal!;
    this.pid = this.proc.pid;
    if (masters.length > 0 && EpollReader.supported()) this.reader = new EpollReader(masters);
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
    if (this.given) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, HANDBACK_GRACE_MS);
        this.whenTaken = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      // Not given back in time: a background process holds the terminal open, so the lane thread
      // reads no end. The session is over all the same.
    }
    this.exited = true;
    closeFd(this.masterFd);
    this.masterFd = -1;
    const e: PtyExit = { exitCode: exitStatus(this.proc) };
    try {
      this.term.close();
    } catch {
      /* already closed */
    }
    this.emitExit(e);
  }

  onInputWhileGiven?: () => void;

  write(data: Uint8Array | string): void {
    if (this.exited || this.term.closed) return;
    if (data.length === 0) return;
    if (this.given) this.onInputWhileGiven?.();
    let bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.masterFd >= 0 && !this.bunPending) {
      let n: number;
      try {
        n = writeSome(this.masterFd, bytes);
      } catch {
        // The program is gone (EIO): as Bun's writer would, drop it.
        return;
      }
      if (n === bytes.length) return;
      // The program's input queue is full: Bun's writer keeps the rest and writes it when the
      // PTY can take it, and everything after it until then.
      bytes = bytes.subarray(n === -EAGAIN ? 0 : n);
    }
    // It says how much it wrote now (the rest it keeps, and says when it drained).
    this.bunPending = this.term.write(bytes) < bytes.length;
  }

  /**
   * A descriptor of the caller's own for the PTY's master (to write keys from another thread:
   * lane/direct.ts), or -1 when there is none or Bun's writer holds bytes that must go first.
   */
  dupMaster(): number {
    this.findMasters();
    return this.exited || this.bunPending ? -1 : dupFd(this.masterFd);
  }

  dupReader(): number {
    this.findMasters();
    const fd = this.exited ? -1 : (this.reader?.readerFd() ?? -1);
    return fd >= 0 ? dupFd(fd) : -1;
  }

  /** Where the spawn could not tell Bun's master descriptors, finds them by the terminal's number. */
  private findMasters(): void {
    if (this.reader || this.exited || this.term.closed || process.platform !== "linux" || !EpollReader.supported()) return;
    const masters = mastersOf(this.pid);
    if (masters.length === 0) return;
    this.reader = new EpollReader(masters);
    if (this.masterFd < 0 && process.env.CODEWIRE_PTY_DIRECT_WRITE !== "0") this.masterFd = dupFd(masters[masters.length - 1]!);
  }

  giveReading(): boolean {
    this.findMasters();
    if (this.exited || this.term.closed || !this.reader?.pause()) return false;
    this.given = true;
    return true;
  }

  takeReading(): void {
    if (!this.given) return;
    this.given = false;
    // Once Bun read the end (it closes its reader then) or the terminal closed, the descriptor's
    // number may be another file's: never registered again.
    if (!this.exited && !this.eof && !this.term.closed) this.reader?.resume();
    else this.reader?.release();
    this.whenTaken?.();
  }

  received(chunk: Uint8Array): void {
    this.emitData(chunk);
  }

  /** Bun reads the end itself once it reads again (the exit callback, then finish()). */
  readerEnded(): void {
    this.takeReading();
  }

  resize(cols: number, rows: number): void {
    if (this.exited || this.term.closed) return;
    this.term.resize(Math.max(1, cols | 0), Math.max(1, rows | 0));
  }

}
