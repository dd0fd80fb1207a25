/**
 * Frames over a WebSocket, as the upstream Go node carries them: a control frame travels as a
 * text message holding its JSON, a data frame as a binary message holding its bytes. So the
 * Go client (and anything that speaks WebSocket and JSON) can talk to a node; and a node never
 * has to find frame boundaries in a message stream.
 */
import { encodeFrame, FRAME_CONTROL, FRAME_DATA, FrameReader } from "./frame";

const encoder = new TextEncoder();

/** One WebSocket message as the frame it stands for. */
export function messageToFrame(msg: string | Uint8Array): Uint8Array {
  return typeof msg === "string" ? encodeFrame(FRAME_CONTROL, encoder.encode(msg)) : encodeFrame(FRAME_DATA, msg);
}

/** Encoded frames (whole or in pieces) as the WebSocket messages that carry them. */
export class FramesToMessages {
  private reader = new FrameReader();

  push(bytes: Uint8Array): (string | Uint8Array)[] {
    return this.reader.push(bytes).map((f) => (f.kind === "control" ? JSON.stringify(f.message) : f.bytes));
  }
}
