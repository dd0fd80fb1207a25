/** The session size chosen from its attached clients' sizes (node/window-size.ts), as tmux's window-size. */
import { describe, expect, test } from "bun:test";
import { type Size, SessionSize } from "../src/node/window-size";

function session(policy: "latest" | "smallest" | "largest") {
  let size: Size = { cols: 80, rows: 24 };
  const told: string[] = [];
  const z = new SessionSize(policy, () => size, (s) => (size = s));
  const add = (name: string, s: Size) => z.add(s, (to, from) => told.push(`${name}:${from.cols}x${from.rows}->${to.cols}x${to.rows}`));
  return { z, add, told, size: () => `${size.cols}x${size.rows}` };
}

describe("window size", () => {
  test("latest: the client that attached or typed last; the one left when it goes", () => {
    const s = session("latest");
    const a = s.add("a", { cols: 100, rows: 30 });
    const b = s.add("b", { cols: 60, rows: 15 });
    expect(s.size()).toBe("60x15");
    a.active();
    expect(s.size()).toBe("100x30");
    b.active();
    b.resize({ cols: 70, rows: 20 });
    expect(s.size()).toBe("70x20");
    b.remove();
    expect(s.size()).toBe("100x30");
    // Every client hears of each change, with the size before it, before the session changes.
    expect(s.told).toContain("a:100x30->60x15");
  });

  test("smallest and largest take each dimension on its own", () => {
    const small = session("smallest");
    small.add("a", { cols: 100, rows: 20 });
    small.add("b", { cols: 60, rows: 40 });
    expect(small.size()).toBe("60x20");
    const large = session("largest");
    large.add("a", { cols: 100, rows: 20 });
    const b = large.add("b", { cols: 60, rows: 40 });
    expect(large.size()).toBe("100x40");
    b.active();
    expect(large.size()).toBe("100x40");
  });

  test("no change, no news: a client of the session's size attaching again is not told anything", () => {
    const s = session("latest");
    s.add("a", { cols: 80, rows: 24 });
    expect(s.told).toEqual([]);
  });
});
