/**
 * The frame decoder on its own: whole frames, frames split anywhere, several in one read, and
 * the shortcut for one whole data frame (a keystroke) agreeing with the general path.
 */
import { describe, expect, test } from "bun:test";
import { controlFrame, dataFrame, type Frame, FrameError, FrameReader } from "../src/protocol/frame";

function feed(chunks: Uint8Array[], reader = new FrameReader()): Frame[] {
  return chunks.flatMap((c) => reader.push(c));
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe("FrameReader", () => {
  const frames = [dataFrame(new Uint8Array([0x78])), controlFrame({ type: "Resize", cols: 80, rows: 24 }), dataFrame(new Uint8Array([0, 0xff, 0x0d, 0x0a])), dataFrame(new Uint8Array(70_000).fill(7))];
  const expected: Frame[] = [
    { kind: "data", bytes: new Uint8Array([0x78]) },
    { kind: "control", message: { type: "Resize", cols: 80, rows: 24 } },
    { kind: "data", bytes: new Uint8Array([0, 0xff, 0x0d, 0x0a]) },
    { kind: "data", bytes: new Uint8Array(70_000).fill(7) },
  ];

  test("one frame per read", () => {
    expect(feed(frames)).toEqual(expected);
  });

  test("everything in one read, and one byte per read", () => {
    const all = concat(frames);
    expect(feed([all])).toEqual(expected);
    expect(feed(Array.from(all, (b) => new Uint8Array([b])))).toEqual(expected);
  });

  test("a whole data frame arriving while part of another is buffered waits its turn", () => {
    const first = dataFrame(new Uint8Array([1, 2, 3]));
    const second = dataFrame(new Uint8Array([4]));
    const reader = new FrameReader();
    expect(reader.push(first.subarray(0, 6))).toEqual([]);
    // The rest of the first frame, then a complete second one in the same read.
    expect(reader.push(concat([first.subarray(6), second]))).toEqual([
      { kind: "data", bytes: new Uint8Array([1, 2, 3]) },
      { kind: "data", bytes: new Uint8Array([4]) },
    ]);
  });

  test("a data frame announcing more than the limit is refused, whole or not", () => {
    const big = dataFrame(new Uint8Array(100));
    expect(() => new FrameReader(99).push(big)).toThrow(FrameError);
    expect(() => new FrameReader(99).push(big.subarray(0, 5))).toThrow(FrameError);
  });

  test("an unknown frame type is refused", () => {
    expect(() => new FrameReader().push(new Uint8Array([7, 0, 0, 0, 1, 0]))).toThrow("unknown frame type 7");
  });
});
