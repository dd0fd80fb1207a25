/**
 * Agents' states read where their screens are (Screens.watchAgent): the worker thread runs each
 * agent's profile on the screen it keeps and answers with the state alone, and the questions ride
 * on the handover of output (one message for every session that printed). Real worker threads,
 * in this process, fed the real agents' screens (fixtures/screens).
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENTS } from "../src/node/agents";
import type { ScreenRead } from "../src/node/agents/keeper";
import type { AgentName } from "../src/protocol/constants";
import { waitFor, workerThreads } from "./helpers";
import { Screens } from "../src/node/screen/screens";

const enc = new TextEncoder();
const fixture = (name: string) => readFileSync(join(import.meta.dir, "fixtures/screens", `${name}.txt`), "utf8").split("\n");

let screens: Screens | undefined;
let threadsBefore = 0;
beforeEach(() => {
  threadsBefore = workerThreads();
});
// Each test's worker thread is gone before the next test (others count threads).
afterEach(async () => {
  screens?.terminate();
  screens = undefined;
  await waitFor(() => workerThreads() <= threadsBefore, "the screen worker's thread to exit", 5_000);
});

/** Opens screen `id` as tall as `rows`, read as `agent`'s; returns the reads it gets. */
function open(s: Screens, id: number, rows: number, agent: AgentName): ScreenRead[] {
  const reads: ScreenRead[] = [];
  s.open(id, 400, rows, () => ({ bytes: new Uint8Array(), end: 0 }), () => {});
  s.watchAgent(id, agent, (r) => reads.push(r));
  return reads;
}

/** Prints `lines` into screen `id`, each on its row. */
function print(s: Screens, id: number, lines: string[]): void {
  const bytes = enc.encode(lines.join("\r\n"));
  s.feed(id, bytes, bytes.length);
}

const until = (ok: () => boolean, what: string) => waitFor(ok, what, 5_000, 10);

/** The messages the node posts to its worker threads while `fn` runs: how many, and what they were. */
async function posted<T>(fn: () => Promise<T>): Promise<{ result: T; messages: number; sent: unknown[] }> {
  const original = Worker.prototype.postMessage;
  const sent: unknown[] = [];
  Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker["postMessage"]>) {
    sent.push(args[0]);
    return original.apply(this, args);
  } as Worker["postMessage"];
  try {
    const result = await fn();
    return { result, messages: sent.length, sent };
  } finally {
    Worker.prototype.postMessage = original;
  }
}

test("each agent's screen, read in the worker, gives the state its profile reads there", async () => {
  screens = new Screens(1000, () => {});
  const cases = [
    ["claude", "working", "working"],
    ["claude", "idle", "idle"],
    ["claude", "permission", "needs-input"],
    ["claude", "interrupted", "idle"],
    ["codex", "working", "working"],
    ["codex", "permission", "needs-input"],
    ["gemini", "working", "working"],
    ["gemini", "idle", "idle"],
    ["gemini", "permission", "needs-input"],
  ] as const;
  let id = 0;
  for (const [agent, screen, state] of cases) {
    const lines = fixture(`${agent}-${screen}`);
    // The fixture itself reads as `state` (agent-state-unit.test.ts), so the worker's rows are compared with it.
    expect(AGENTS[agent].screenState(lines)).toBe(state);
    const reads = open(screens, ++id, lines.length, agent);
    print(screens, id, lines);
    await until(() => reads.length > 0, `a read of ${agent}-${screen}`);
    expect({ agent, screen, reads }).toEqual({ agent, screen, reads: [{ shown: state }] });
  }
});

test("the reads of many agents' screens ride on the output's handover: one message out, one read each", async () => {
  screens = new Screens(1000, () => {});
  const s = screens;
  const shown = ["claude-working", "claude-idle", "claude-permission", "claude-working", "claude-idle"];
  // Opening starts the worker and posts an "open" each: not counted.
  const reads = shown.map((name, i) => open(s, i + 1, fixture(name).length, "claude"));
  const { messages } = await posted(async () => {
    for (const [i, name] of shown.entries()) print(s, i + 1, fixture(name));
    await until(() => reads.every((r) => r.length > 0), "a read of each screen");
  });
  expect(reads).toEqual([[{ shown: "working" }], [{ shown: "idle" }], [{ shown: "needs-input" }], [{ shown: "working" }], [{ shown: "idle" }]]);
  expect(messages).toBe(1);
  // Nothing printed since: nothing more is read (an observation window, not a synchronisation).
  await Bun.sleep(400);
  expect(reads.map((r) => r.length)).toEqual([1, 1, 1, 1, 1]);
});

test("asked without output, a screen is read once more; one that printed nothing shows no state; a session not watched is not read", async () => {
  screens = new Screens(1000, () => {});
  const blank = open(screens, 1, 24, "claude");
  screens.askAgent(1);
  await until(() => blank.length > 0, "a read of the blank screen");
  expect(blank).toEqual([{ shown: undefined }]);

  const lines = fixture("codex-working");
  const reads = open(screens, 2, lines.length, "codex");
  print(screens, 2, lines);
  await until(() => reads.length > 0, "the first read");
  screens.askAgent(2);
  await until(() => reads.length > 1, "the read asked for");
  expect(reads).toEqual([{ shown: "working" }, { shown: "working" }]);

  // A plain program's screen: printed into, never read.
  screens.open(3, 80, 24, () => ({ bytes: new Uint8Array(), end: 0 }), () => {});
  const { sent } = await posted(async () => {
    print(screens!, 3, ["plain output"]);
    screens!.askAgent(3);
    // An observation window (longer than a handover's wait), not a synchronisation.
    await Bun.sleep(400);
  });
  // The output alone: handed over, with no question about its screen.
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ type: "data", items: [{ id: 3 }] });
  expect((sent[0] as { states?: unknown }).states).toBeUndefined();
});
