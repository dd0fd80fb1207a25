/** Helpers for requests that stream a session's output. */
import type { Connection } from "./connection";
import type { Session } from "./session";
import { Viewer, type ViewerOptions } from "./viewer";

/**
 * Follows a session's output from `from` for as long as the session runs, at the connection's
 * pace; calls `onEnd` once the program has exited and everything was delivered.
 */
export function follow(conn: Connection, s: Session, from: number, opts: ViewerOptions = {}, onEnd?: () => void): Viewer {
  const v = new Viewer(conn, s.log, () => s.offset, from, opts);
  s.viewers.add(v);
  conn.onClose(() => s.viewers.delete(v));
  // Start from the log (it may hold bytes between `from` and now), then go live.
  v.resume();
  if (onEnd) {
    const cancel = s.onExit(() => {
      // The program is gone; the viewer may still be behind. Check once now and then on every
      // drain (one hook, registered once) until it has everything.
      let ended = false;
      let stopDrain = () => {};
      const finish = () => {
        if (ended || conn.closed) return;
        if (v.cursor >= s.offset || v.cursor < s.log.start) {
          ended = true;
          stopDrain();
          s.viewers.delete(v);
          onEnd();
        }
      };
      // Catching up may finish on a drain, or later (after an attach repaint): check on both.
      stopDrain = conn.onDrain(finish);
      v.onCaughtUp = finish;
      v.catchUp();
      finish();
    });
    conn.onClose(cancel);
  }
  return v;
}

/** Sends log bytes [from, to) in chunks as the socket drains, then calls `done`. */
export function sendRange(conn: Connection, s: Session, from: number, to: number, deliver: (b: Uint8Array) => void, done: () => void): void {
  let cursor = Math.max(from, s.log.start);
  const CHUNK = 256 * 1024;
  let finished = false;
  const pump = () => {
    while (!conn.closed && !finished && conn.pendingBytes < CHUNK * 4) {
      if (cursor >= to) {
        finished = true;
        done();
        return;
      }
      const { offset, bytes } = s.log.readAt(cursor, Math.min(to, cursor + CHUNK));
      if (bytes.length) deliver(bytes);
      cursor = offset + bytes.length;
    }
  };
  conn.onDrain(pump);
  pump();
}
