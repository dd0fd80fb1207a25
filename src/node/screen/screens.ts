/**
 * The node's side of the screen worker: feeds each session's output to its emulator with
 * bounded memory, asks for snapshots, and routes query answers back.
 *
 * Flow control: at most MAX_INFLIGHT bytes per session wait in the worker. Past that we stop
 * feeding (the output path never waits on the emulator) and, once the worker has drained,
 * resynchronise it from the tail of the session's log: a flood of output only needs its last
 * part to rebuild the screen.
 */
import { isCompiledBinary } from "../../sys/self";
import { IdleStop } from "../idle-stop";
import type { AgentName } from "../../protocol/constants";
import type { ScreenRead } from "../agents/keeper";
import type { FromScreen, ScreenData, ToScreen } from "./messages";
import { asksTheTerminal } from "./queries";

/*
 * 512 KiB, not more: output that floods faster than the emulator parses it piles up in the worker
 * and in copies on its way there, and the node's peak memory follows this bound (128 MiB
 * through a session: 134 MiB peak RSS at 8 MiB, 100 MiB at 2 MiB, 74 MiB with no screen at all;
 * 256 MiB through: 112 MiB at 2 MiB, 102 MiB at 512 KiB, 77 MiB with no screen).
 * An agent's output is never this far ahead of the parser; a flood resynchronises from the log.
 */
const MAX_INFLIGHT = 512 * 1024;
/** A snapshot that takes longer than this is given up on: attach then starts with live output. */
const SNAPSHOT_TIMEOUT_MS = 2000;

/**
 * In a compiled binary the worker is an extra entrypoint, addressed relative to the bundle's
 * root (src/); when running from source it sits next to this file.
 */
function workerUrl(): string {
  return isCompiledBinary() ? "./node/screen/worker.ts" : new URL("./worker.ts", import.meta.url).href;
}
/** A line stream's chunk is at most a few hundred KiB: far less than this to parse. */
const STREAM_TIMEOUT_MS = 30_000;
export const RESYNC_BYTES = 512 * 1024;
/**
 * How long output may wait before it is handed to the emulator, in one message for every
 * session that printed meanwhile. Each message wakes the worker thread, and a wake-up costs both
 * threads ~70 µs of CPU whatever it carries (measured with Bun's Worker on this 2-core VM): ten
 * agents redrawing a spinner at 10 Hz would pay it 100 times a second. Nothing reads the screen
 * without asking, and a question (snapshot, text, probe) hands over what waits first, so the
 * delay is never seen; output that asks the terminal a question (queries.ts) goes at once.
 * 250 ms, not 50: with ten such spinners the worker thread took 30-36 ms of CPU per 10 s at
 * 50 ms and 15-20 at 250 (the node's total 125-140 -> 100-105 ms; tmux's server 71). What waits
 * longer is only the text a following view (`cw watch`) emits when output pauses.
 */
const FEED_DELAY_MS = 250;
/** Output waiting past this many bytes is handed over at once (a flood needs no batching). */
const FEED_NOW_BYTES = 128 * 1024;
/**
 * The worker says how far it has parsed (an ack, for MAX_INFLIGHT) once per this many bytes of a
 * session's output, not per message: an ack wakes the node's main thread.
 */
const ACK_EVERY_BYTES = 64 * 1024;
/**
 * While output floods faster than the emulator parses, resynchronise at most this often: the
 * screen only needs the flood's end, and parsing all of it would take a core from the program.
 * A question about the screen (snapshot, probe, text) resynchronises at once. Once a second, not
 * four times: each resync parses 512 KiB again and drops a screen and scrollback (256 MiB through
 * a detached session: node CPU 2.8 -> 1.4-1.9 s, peak RSS 91 -> 87-89 MiB).
 */
const RESYNC_EVERY_MS = 1000;
/**
 * How long the worker is kept with nothing to do (no session's screen, no text stream, no
 * question waiting) before it is stopped; the next session starts another. A node whose sessions
 * have all ended gives back the worker's thread and heap (~3.5 MiB, the node's anonymous memory
 * 15.8 -> 12.3 MiB, back where it started), and a minute is long enough that a launch after a
 * short pause does not pay the new worker's start.
 */
export const WORKER_IDLE_MS = 60_000;

export interface ScreenProbe {
  bracketedPaste: boolean;
  cursorLine: string;
  offset: number;
}

export interface ScreenText {
  lines: string[];
  cursor: { x: number; y: number };
  alt: boolean;
  offset: number;
}

export interface ScreenLines {
  lines: string[];
  /** The model holds every line the session printed (no scrollback trimmed, never resynchronised). */
  complete: boolean;
  offset: number;
}

/** A line stream in the worker (line-stream.ts): feed it bytes, get the lines that are done. */
export interface TextStream {
  /** `settle`: the output has paused, so the lines on the screen count too; `final`: it has ended. */
  feed(bytes: Uint8Array, settle: boolean, final?: boolean): Promise<string[]>;
  close(): void;
}

export interface ScreenSnapshot {
  data: string;
  /** Output offset the snapshot reflects: live output continues from here. */
  offset: number;
  alt: boolean;
}

interface Entry {
  /** Output not yet handed to the worker: posted in one message once the current task is done. */
  queued: Uint8Array[];
  queuedBytes: number;
  posted: number;
  acked: number;
  /** The offset the last ack was asked for. */
  ackAsked: number;
  lagging: boolean;
  lastResync: number;
  resyncTimer?: ReturnType<typeof setTimeout>;
  /** Reads the last bytes of the session's output for a resync. */
  tail: (bytes: number) => { bytes: Uint8Array; end: number };
  onReply: (data: string) => void;
  /** The session's agent, whose screen is read after each handover of its output (watchAgent). */
  agent?: { name: AgentName; onRead: (read: ScreenRead) => void };
  /** Output (or a question, askAgent) came since the agent's screen was last asked about. */
  stateWanted?: boolean;
}

export class Screens {
  private started?: Worker;
  /** Text streams open in the worker (openStream): they keep it, as sessions' screens do. */
  private streams = 0;
  /** Stops the worker with no screen open, no text stream and no question waiting for its answer. */
  private readonly idleStop: IdleStop;
  private entries = new Map<number, Entry>();
  private pending = new Map<number, (m: FromScreen | undefined) => void>();
  private nextReq = 1;
  private nextStream = 1;
  /** Set while queued output waits for its batched post to the worker. */
  private flushTimer?: ReturnType<typeof setTimeout>;
  /** Bytes queued for the worker, all sessions together. */
  private queuedBytes = 0;

  constructor(
    private readonly scrollback: number,
    private readonly log: (msg: string) => void,
    idleMs = WORKER_IDLE_MS,
  ) {
    this.idleStop = new IdleStop(idleMs, () => this.started !== undefined && this.entries.size === 0 && this.streams === 0 && this.pending.size === 0, () => this.stopWorker());
  }

  /** Whether the worker thread is running (started, and not stopped for idleness). */
  get workerRunning(): boolean {
    return this.started !== undefined;
  }

  /**
   * Started with the first session: a node without sessions does without its ~4 MiB. Stopped
   * again once it has had nothing to do for idleMs (idleStop).
   */
  private get worker(): Worker {
    this.idleStop.cancel();
    if (this.started) return this.started;
    const w = new Worker(workerUrl());
    w.onmessage = (ev: MessageEvent<FromScreen>) => this.receive(ev.data);
    w.onerror = (ev) => this.log(`screen worker: ${ev.message}`);
    // The worker must not keep the node alive on its own.
    w.unref();
    this.started = w;
    return w;
  }

  /** `pipes`: the program writes to pipes, where a bare LF is a whole newline (no terminal adds the CR). */
  open(id: number, cols: number, rows: number, tail: Entry["tail"], onReply: Entry["onReply"], pipes = false) {
    this.entries.set(id, { queued: [], queuedBytes: 0, posted: 0, acked: 0, ackAsked: 0, lagging: false, lastResync: 0, tail, onReply });
    this.send({ type: "open", id, cols, rows, scrollback: this.scrollback, pipes });
  }

  /** `end` is the session's output offset after `bytes`. */
  feed(id: number, bytes: Uint8Array, end: number) {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.lagging) return;
    if (end - e.acked > MAX_INFLIGHT) {
      e.lagging = true;
      // Resynchronising waits for the worker to have parsed all that was posted: ask it to say.
      if (e.ackAsked < e.posted) this.send({ type: "sync", id });
      e.ackAsked = e.posted;
      return;
    }
    e.posted = end;
    // Batched and late (FEED_DELAY_MS): the output path (viewers' sockets) goes first, chunks of
    // many sessions cost one message to the worker, and the worker thread does not wake up
    // while a keystroke's echo is still on its way to the attached terminal (on two cores that
    // wake-up competed with the client for a CPU and showed in the echo latency's tail).
    // A copy: the chunk is the PTY's, freed once the output path is done with it (Pty.onData).
    e.queued.push(new Uint8Array(bytes));
    e.queuedBytes += bytes.length;
    if (e.agent) e.stateWanted = true;
    this.queuedBytes += bytes.length;
    if (this.queuedBytes >= FEED_NOW_BYTES) this.flush();
    else if (asksTheTerminal(bytes)) {
      clearTimeout(this.flushTimer);
      this.flushTimer = setTimeout(() => this.flush(), 0);
    } else this.flushTimer ??= setTimeout(() => this.flush(), FEED_DELAY_MS);
  }

  /**
   * Reads session `id`'s screen as `agent`'s profile does (in the worker, where the screen is)
   * after each handover of its output, and gives `onRead` what it shows: the agent's state, for
   * agents/keeper.ts. Several times a second per working agent, so the question rides on the
   * handover itself, one message for every session that printed, and the answer is one small
   * message: not a wake-up of both threads and a screen's rows each time. With 5 real Claude
   * Codes working (their spinners redrawn), the node took 3.0% of a core reading their screens
   * as rows, 1.4% for the same sessions with their agent unrecognised (no reads); with this,
   * 1.7-1.9% (the tmux server: 0.6-0.8%; scripts/bench/agents-load.ts).
   */
  watchAgent(id: number, agent: AgentName, onRead: (read: ScreenRead) => void): void {
    const e = this.entries.get(id);
    if (e) e.agent = { name: agent, onRead };
  }

  /** Reads session `id`'s agent screen once more soon, though nothing was printed (watchAgent). */
  askAgent(id: number): void {
    const e = this.entries.get(id);
    if (!e?.agent) return;
    if (e.lagging && e.acked >= e.posted) this.resync(id);
    this.wantAgentRead(e);
  }

  /** The next handover asks about `e`'s agent screen: output already waiting carries it; otherwise one of its own, after whatever else this turn of the event loop asks. */
  private wantAgentRead(e: Entry): void {
    e.stateWanted = true;
    this.flushTimer ??= setTimeout(() => this.flush(), 0);
  }

  /** Posts the queued output of every session, in one message, with the questions about agents' screens. */
  private flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queuedBytes = 0;
    const items: ScreenData[] = [];
    const moved: ArrayBuffer[] = [];
    let states: { id: number; agent: AgentName }[] | undefined;
    for (const [id, e] of this.entries) {
      // Not while lagging: its screen waits for a resync (which asks again, see resync).
      if (e.stateWanted && e.agent && !e.lagging) {
        (states ??= []).push({ id, agent: e.agent.name });
        e.stateWanted = false;
      }
      if (e.queued.length === 0) continue;
      let bytes: Uint8Array;
      if (e.queued.length === 1) bytes = e.queued[0]!;
      else {
        bytes = new Uint8Array(e.queuedBytes);
        let off = 0;
        for (const c of e.queued) {
          bytes.set(c, off);
          off += c.length;
        }
      }
      // Our own copy (feed() copies each chunk) moves to the worker instead of being copied once more.
      moved.push(bytes.buffer as ArrayBuffer);
      e.queued = [];
      e.queuedBytes = 0;
      // Every ack answers one asked for, so ackAsked is never behind acked.
      const ack = e.posted - e.ackAsked >= ACK_EVERY_BYTES;
      if (ack) e.ackAsked = e.posted;
      items.push({ id, bytes, end: e.posted, ack });
    }
    if (!states) {
      if (items.length) this.worker.postMessage({ type: "data", items } satisfies ToScreen, moved);
      return;
    }
    // The answer goes to each session's agent (gone meanwhile: to nobody). None within the
    // time: nothing is read this time; the session's next output asks again.
    const req = this.nextReq++;
    const timer = setTimeout(() => {
      this.pending.delete(req);
      this.idleStop.check();
    }, SNAPSHOT_TIMEOUT_MS);
    this.pending.set(req, (m) => {
      clearTimeout(timer);
      if (m?.type !== "states") return;
      for (const { id, state } of m.states) this.entries.get(id)?.agent?.onRead({ shown: state ?? undefined });
    });
    this.worker.postMessage({ type: "data", items, states, req } satisfies ToScreen, moved);
  }

  resize(id: number, cols: number, rows: number) {
    if (this.entries.has(id)) this.send({ type: "resize", id, cols, rows });
  }

  close(id: number) {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.resyncTimer) clearTimeout(e.resyncTimer);
    this.entries.delete(id);
    this.send({ type: "close", id });
    this.idleStop.check();
  }

  /** The paint for an attaching terminal of size `client` (paint.ts). */
  async snapshot(id: number, scrollback: number, client?: { cols: number; rows: number }): Promise<ScreenSnapshot | undefined> {
    const m = await this.ask(id, (req) => ({ type: "snapshot", id, req, scrollback, ...(client ? { client } : {}) }));
    return m?.type === "snapshot" ? { data: m.data, offset: m.offset, alt: m.alt } : undefined;
  }

  /** What a detaching terminal of size `client` is sent to be left clean (paint.ts: farewell). */
  async farewell(id: number, client: { cols: number; rows: number }): Promise<string | undefined> {
    const m = await this.ask(id, (req) => ({ type: "farewell", id, req, client }));
    return m?.type === "farewell" ? m.data : undefined;
  }

  async probe(id: number): Promise<ScreenProbe | undefined> {
    const m = await this.ask(id, (req) => ({ type: "probe", id, req }));
    return m?.type === "probe" ? { bracketedPaste: m.bracketedPaste, cursorLine: m.cursorLine, offset: m.offset } : undefined;
  }

  async text(id: number): Promise<ScreenText | undefined> {
    const m = await this.ask(id, (req) => ({ type: "text", id, req }));
    return m?.type === "text" ? { lines: m.lines, cursor: m.cursor, alt: m.alt, offset: m.offset } : undefined;
  }

  /** The last `count` lines of text of a running session's screen and scrollback (text.ts). */
  async lines(id: number, count: number): Promise<ScreenLines | undefined> {
    const resynced = (this.entries.get(id)?.lastResync ?? 0) > 0;
    const m = await this.ask(id, (req) => ({ type: "lines", id, req, count }));
    return m?.type === "lines" ? { lines: m.lines, complete: !m.full && !resynced, offset: m.offset } : undefined;
  }

  openStream(cols: number, rows: number, pipes: boolean): TextStream {
    const sid = this.nextStream++;
    this.send({ type: "stream-open", sid, cols, rows, pipes });
    this.streams++;
    let closed = false;
    return {
      feed: (bytes, settle, final = false) =>
        new Promise((resolve, reject) => {
          const req = this.nextReq++;
          const timer = setTimeout(() => {
            this.pending.delete(req);
            reject(new Error("the screen worker did not answer"));
            this.idleStop.check();
          }, STREAM_TIMEOUT_MS);
          this.pending.set(req, (m) => {
            clearTimeout(timer);
            resolve(m?.type === "stream-lines" ? m.lines : []);
          });
          this.send({ type: "stream-feed", sid, req, bytes, settle, final });
        }),
      close: () => {
        if (closed) return;
        closed = true;
        this.streams--;
        this.send({ type: "stream-close", sid });
        this.idleStop.check();
      },
    };
  }

  /** A question to the worker about one screen; undefined if it does not answer in time. */
  private ask(id: number, make: (req: number) => ToScreen): Promise<FromScreen | undefined> {
    const e = this.entries.get(id);
    if (!e) return Promise.resolve(undefined);
    if (e.lagging && e.acked >= e.posted) this.resync(id);
    const req = this.nextReq++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(req);
        resolve(undefined);
        this.idleStop.check();
      }, SNAPSHOT_TIMEOUT_MS);
      this.pending.set(req, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.send(make(req));
    });
  }

  terminate() {
    this.idleStop.cancel();
    this.started?.terminate();
  }

  private stopWorker() {
    this.started!.terminate();
    this.started = undefined;
    this.log(`screen worker stopped: nothing used it for ${this.idleStop.ms / 1000} s (the next session starts it again)`);
  }

  private resync(id: number) {
    const e = this.entries.get(id);
    if (!e) return;
    if (this.flushTimer) this.flush();
    if (e.resyncTimer) clearTimeout(e.resyncTimer);
    e.resyncTimer = undefined;
    e.lastResync = performance.now();
    const { bytes, end } = e.tail(RESYNC_BYTES);
    e.lagging = false;
    e.posted = end;
    e.ackAsked = end;
    this.send({ type: "reset", id, bytes, end });
    // Its agent's screen was not read while it lagged: read the rebuilt one.
    if (e.agent) this.wantAgentRead(e);
  }

  private receive(m: FromScreen) {
    if (m.type === "snapshot" || m.type === "farewell" || m.type === "probe" || m.type === "text" || m.type === "lines" || m.type === "stream-lines" || m.type === "states") {
      const r = this.pending.get(m.req);
      this.pending.delete(m.req);
      r?.(m);
      this.idleStop.check();
      return;
    }
    const e = this.entries.get(m.id);
    if (!e) return;
    if (m.type === "reply") e.onReply(m.data);
    else if (m.type === "ack") {
      e.acked = m.offset;
      if (e.lagging && e.acked >= e.posted && !e.resyncTimer) {
        const wait = e.lastResync + RESYNC_EVERY_MS - performance.now();
        if (wait <= 0) this.resync(m.id);
        else e.resyncTimer = setTimeout(() => this.resync(m.id), wait);
      }
    }
  }

  /** Every other message keeps its place after the output queued before it. */
  private send(m: ToScreen) {
    if (this.flushTimer) this.flush();
    this.worker.postMessage(m);
  }
}
