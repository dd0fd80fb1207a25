/**
 * Which size a session's terminal takes while several clients of different sizes are attached,
 * as tmux's `window-size` option (config.toml: `[attach] window_size`):
 *  - latest (the default, as in tmux): the size of the client that attached or typed last;
 *  - smallest: fits every client, the larger ones show the unused area dotted;
 *  - largest: fills the largest client, the smaller ones see only part of it.
 * A client larger than the session is told to mark the area the session does not use (see
 * screen/paint.ts: markOutside) whenever the session's size changes.
 */
import type { WindowSize } from "../config/config";

export interface Size {
  cols: number;
  rows: number;
}

export interface AttachedClient {
  /** The client's terminal changed size. */
  resize(size: Size): void;
  /** The client typed, at `at` (epoch ms; now if not given): under `latest`, the session may take its size. */
  active(at?: number): void;
  /** The client left. */
  remove(): void;
}

interface Entry {
  size: Size;
  /** When it last attached or typed (epoch ms). */
  seen: number;
  /** Called with the session's new size and the one it had, just before it changes. */
  changed: (session: Size, before: Size) => void;
}

/** Now, in epoch ms with a fraction: comparable with times taken on other threads (lanes). */
const now = () => performance.timeOrigin + performance.now();

export class SessionSize {
  private readonly clients = new Set<Entry>();

  constructor(
    private readonly policy: WindowSize,
    /** The session's size now. */
    private readonly current: () => Size,
    /** Sets the session's size (the program is told, SIGWINCH). */
    private readonly apply: (size: Size) => void,
  ) {}

  /** A client attached with a terminal of `size`; it is the latest one. */
  add(size: Size, changed: Entry["changed"]): AttachedClient {
    const e: Entry = { size, seen: now(), changed };
    this.clients.add(e);
    this.update();
    return {
      resize: (s) => {
        e.size = s;
        this.update();
      },
      active: (at = now()) => {
        // A lane reports typing late and in batches: an older report does not make it the latest.
        e.seen = Math.max(e.seen, at);
        if (this.policy === "latest") this.update();
      },
      remove: () => {
        if (this.clients.delete(e)) this.update();
      },
    };
  }

  get attached(): number {
    return this.clients.size;
  }

  /** The size the policy picks for the clients attached now; undefined when none is. */
  choose(): Size | undefined {
    const all = [...this.clients];
    if (all.length === 0) return undefined;
    if (this.policy === "latest") return all.reduce((a, b) => (b.seen > a.seen ? b : a)).size;
    const pick = this.policy === "smallest" ? Math.min : Math.max;
    return { cols: pick(...all.map((c) => c.size.cols)), rows: pick(...all.map((c) => c.size.rows)) };
  }

  private update(): void {
    const size = this.choose();
    const was = this.current();
    if (!size || (size.cols === was.cols && size.rows === was.rows)) return;
    // The clients first: what they are sent must reach their terminals before the program's
    // redraw for the new size (it may set its own scroll region, which must win).
    for (const c of this.clients) c.changed(size, was);
    this.apply(size);
  }
}
