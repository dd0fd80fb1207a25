/**
 * Many client streams over one node↔relay WebSocket. Every binary message is
 * `[kind u8][channel u32 big-endian][payload]`:
 *
 * - open   (relay → node): a client stream begins; the node treats it like a new connection to
 *          its socket (the first frame on it is the request).
 * - data   (both ways): bytes of the ordinary frame protocol (frame.ts), in order per channel.
 * - close  (both ways): the stream ended; the other side forgets the channel.
 * - pause / resume (relay → node): the client behind the channel reads slowly; the node stops
 *          writing to it, so the relay never buffers without bound (the node serves the client
 *          from the session log when it catches up, as for a slow local client).
 *
 * The relay never parses the frames it carries, except for the streams it opens itself (the SSH
 * gateway), which are ordinary clients.
 */
export const MUX_OPEN = 0;
export const MUX_DATA = 1;
export const MUX_CLOSE = 2;
export const MUX_PAUSE = 3;
export const MUX_RESUME = 4;
const MUX_HEADER = 5;

export interface MuxMessage {
  kind: number;
  channel: number;
  payload: Uint8Array;
}

export function encodeMux(kind: number, channel: number, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(MUX_HEADER + (payload?.length ?? 0));
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, channel);
  if (payload) out.set(payload, MUX_HEADER);
  return out;
}

/** Decodes one WebSocket message; undefined when it is not a mux message. */
export function decodeMux(msg: Uint8Array): MuxMessage | undefined {
  if (msg.length < MUX_HEADER || msg[0]! > MUX_RESUME) return undefined;
  const channel = new DataView(msg.buffer, msg.byteOffset, MUX_HEADER).getUint32(1);
  return { kind: msg[0]!, channel, payload: msg.subarray(MUX_HEADER) };
}
