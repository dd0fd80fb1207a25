/** The detach chord (Ctrl+B then d) among the bytes a terminal sends, and everything else passed on unchanged. */
import { describe, expect, test } from "bun:test";
import { DetachKeys } from "../src/protocol/detach-keys";

const enc = (s: string) => Buffer.from(s, "latin1");
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

/** Feeds `chunks` one after another; returns what was forwarded and whether it detached. */
function run(chunks: string[]): { out: string; detach: boolean } {
  const k = new DetachKeys();
  let out = "";
  for (const c of chunks) {
    const r = k.feed(enc(c));
    out += text(r.forward);
    if (r.detach) return { out, detach: true };
  }
  return { out, detach: false };
}

describe("detach keys", () => {
  test("ordinary keys, bytes above 127 and escape sequences pass through unchanged", () => {
    expect(run(["a", "bc", "\xe9\xff", "\x1b[A", "\x1b", "[B"])).toEqual({ out: "abc\xe9\xff\x1b[A\x1b[B", detach: false });
  });

  test("Ctrl+B then d detaches, in one chunk or two, and what came before it is forwarded", () => {
    expect(run(["ls\x02d"])).toEqual({ out: "ls", detach: true });
    expect(run(["x\x02", "d"])).toEqual({ out: "x", detach: true });
  });

  test("Ctrl+B twice sends one Ctrl+B; Ctrl+B then another key sends both", () => {
    expect(run(["\x02\x02"])).toEqual({ out: "\x02", detach: false });
    expect(run(["\x02", "x"])).toEqual({ out: "\x02x", detach: false });
  });

  test("the kitty keyboard protocol's form of the chord detaches", () => {
    expect(run(["\x1b[98;5u", "\x1b[100u"])).toEqual({ out: "", detach: true });
  });

  test("a lone Escape after Ctrl+B is held until it is known not to be the chord", () => {
    const k = new DetachKeys();
    expect(text(k.feed(enc("\x02")).forward)).toBe("");
    expect(text(k.feed(enc("\x1b")).forward)).toBe("");
    expect(k.holding).toBe(true);
    expect(text(k.flushPending())).toBe("\x02\x1b");
    expect(text(k.feed(enc("q")).forward)).toBe("q");
  });
});
