/**
 * Messages between the node's main thread and its lane thread (lane/worker.ts).
 *
 * A lane is a local `cw attach` whose terminal the node reads and writes itself (see lanes.ts).
 * Main → lane travels on a MessageChannel the lane thread reads synchronously
 * (receiveMessageOnPort) when a byte on the wake pipe says there is something; lane → main is
 * the worker's ordinary postMessage, in order.
 */
export type ToLane =
  /** The first message, on the worker itself: the command port and the wake pipe's read end. */
  | { type: "init"; port: MessagePort; wakeFd: number; inflight: SharedArrayBuffer; ring: SharedArrayBuffer }
  /**
   * Serve the terminal on `fd` (opened by the main thread, non-blocking) for the session whose
   * PTY is `handle`: write `paint` first, then live output. The main thread stopped reading the
   * PTY before sending this; from now on only the lane thread reads it. `paint` ends at the
   * session's log offset `offset`; `fresh` says the main thread read the PTY itself until now (so
   * `offset` is where the lane thread's reading starts).
   *
   * On bun-pty `handle` is its native handle, read and written through the library. On Bun's own
   * PTY (a negative handle) the PTY is read with read(2) from `readFd`, sent with every lane (the
   * thread keeps it when it has none for that PTY, as after it stopped reading it a moment ago),
   * and keys are written with write(2) to `ptyFd`: descriptors of the lane thread's own, which it
   * closes.
   */
  | { type: "open"; lane: number; handle: number; fd: number; paint: Uint8Array; offset: number; fresh: boolean; readFd?: number; ptyFd?: number }
  /**
   * Read keys from the terminal on `fd` (a descriptor of the lane thread's own) and write them to
   * the PTY master `ptyFd` (its own too): the keystroke half of a direct terminal (direct.ts),
   * whose output the main thread writes. The lane thread closes both when the lane closes.
   */
  | { type: "open-keys"; lane: number; fd: number; ptyFd: number }
  /** The output from `catchup` (FromLane) for a lane opened behind the lane thread's reading. */
  | { type: "caught-up"; lane: number; bytes: Uint8Array }
  /**
   * Keys from elsewhere (another client, `cw send`) are being written to PTY `handle`: what it
   * prints next is their echo, to be handed to the main thread (and the client that typed them)
   * as soon as a lane's own keys' echo is.
   */
  | { type: "typed"; handle: number }
  /** Write `bytes` to the lane's terminal (after the output queued for it). */
  | { type: "write"; lane: number; bytes: Uint8Array }
  /** Stop serving the lane (its client went away, or the session ended): close its terminal. */
  | { type: "close"; lane: number }
  /** No lane is left and none came for a while: leave the loop (answered by "stopped"). */
  | { type: "quit" };

export type FromLane =
  /**
   * Output, in order: `parts` holds (handle, at, length) triples, `length` bytes read from PTY
   * `handle` at `at` in the output ring. The main thread logs them and hands them to other
   * viewers, then frees them (subtracts `length` from INFLIGHT_BYTES); the ring is used and freed
   * in order.
   */
  | { type: "output"; parts: number[] }
  /** The PTY's end was read (bun-pty: the program gone and its output drained). */
  | { type: "ended"; handle: number }
  /** No lane reads `handle` any more: the main thread's poller takes it back. */
  | { type: "released"; handle: number }
  /**
   * Bytes typed on a lane went to the program (for session.input events); `at` is when the last
   * of them was typed (epoch ms): reports are batched, so they may arrive after others' input.
   */
  | { type: "input"; lane: number; bytes: number; at: number }
  /**
   * Keys of a keys lane that its PTY could not take at once (its input queue is full): the main
   * thread writes them, and every later key of that lane comes this way too, in order.
   */
  | { type: "keys"; lane: number; bytes: Uint8Array }
  /** The user pressed Ctrl+B d on a lane. */
  | { type: "detach"; lane: number }
  /** The lane's terminal is gone (hung up, closed) or refused writes. */
  | { type: "hangup"; lane: number }
  /**
   * A lane was opened while output the lane thread had already read, [from, to) in the session's
   * log, was still on its way to the main thread, so not in its paint: the main thread sends it
   * (caught-up) once it has logged it, which is before it reads this message.
   */
  | { type: "catchup"; lane: number; from: number; to: number }
  /** The lane's terminal fell too far behind: the main thread serves that client over its socket. */
  | { type: "lagged"; lane: number }
  /** The thread left its loop after "quit": its wake pipe and port may be closed, the worker ended. */
  | { type: "stopped" };

/** Index in the shared `inflight` counter: output bytes posted to the main thread and not yet handled. */
export const INFLIGHT_BYTES = 0;

/**
 * The output ring's size: what the lane thread may have read ahead of the main thread. Past it,
 * the lane thread reads no more until the main thread catches up (the program then waits on a
 * full PTY, as it would for a slow terminal).
 */
export const RING_BYTES = 256 * 1024;
