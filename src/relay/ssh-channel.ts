import type { ServerChannel } from "ssh2";

/** One SSH channel (shell or exec): output with backpressure, input and resize hooks, the end. */
export class ChannelIO {
  closed = false;
  private ended = false;
  private closeHooks: (() => void)[] = [];
  /** Input that came before anyone took it (the client types while the session starts). */
  private held: Uint8Array[] = [];
  private eof = false;
  private onData?: (bytes: Uint8Array) => void;
  private onEof?: () => void;
  onResize?: (cols: number, rows: number) => void;

  constructor(
    private readonly ch: ServerChannel,
    private readonly pty: boolean,
  ) {
    ch.on("data", (b: Buffer) => (this.onData ? this.onData(b) : this.held.push(new Uint8Array(b))));
    ch.on("end", () => {
      this.eof = true;
      this.onEof?.();
    });
    ch.on("error", () => {});
    ch.stderr.on("error", () => {});
    ch.on("close", () => this.gone());
  }

  /** The client closed the channel, or its whole connection went: the close hooks run, once. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHooks.splice(0)) h();
  }

  /** Where the client's input goes from now on (and what it sent before). */
  input(onData: (bytes: Uint8Array) => void, onEof?: () => void) {
    this.onData = onData;
    this.onEof = onEof;
    for (const b of this.held.splice(0)) onData(b);
    if (this.eof) onEof?.();
  }

  /** Called once when the client closes the channel or goes away (or at once if it has). */
  onClose(h: () => void) {
    if (this.closed) h();
    else this.closeHooks.push(h);
  }

  /** True once this side ended it, or the client went away. */
  get done(): boolean {
    return this.closed || this.ended;
  }

  /** Writes output; resolves when the channel can take more. */
  write(bytes: Uint8Array): Promise<void> | void {
    if (this.done || !bytes.length) return;
    if (this.ch.write(bytes)) return;
    return new Promise((resolve) => {
      const go = () => {
        this.ch.off("drain", go);
        this.closeHooks = this.closeHooks.filter((h) => h !== go);
        resolve();
      };
      this.ch.on("drain", go);
      this.onClose(go);
    });
  }

  fail(message: string, hint?: string) {
    if (this.done) return;
    const nl = this.pty ? "\r\n" : "\n";
    this.ch.stderr.write(`error: ${message}${nl}${hint ? `hint: ${hint}${nl}` : ""}`);
    this.exit(1);
  }

  exit(code: number) {
    if (this.done) return;
    this.ended = true;
    this.ch.exit(code);
    this.ch.end();
  }
}
