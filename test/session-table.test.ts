/** The table `cw list` prints (src/protocol/session-table.ts), checked cell by cell. */
import { expect, test } from "bun:test";
import type { SessionInfo } from "../src/protocol";
import { quickCall } from "../src/client/quick-call";
import { sessionTable, type TableRow, tableRow } from "../src/protocol/session-table";
import { CwHome } from "./helpers";

const now = Date.parse("2026-11-22T12:00:00Z");
/** A row as a client drawing for an older node makes it, from a SessionInfo. */
function session(over: Partial<SessionInfo>): TableRow {
  return tableRow({
    id: 1, name: null, prompt: "sleep 1", command: ["sleep", "1"], working_dir: "/", tags: [], status: "running", exit_code: null, pid: 10,
    created_at: "2026-11-22T11:59:50Z", completed_at: null, duration_ms: 0, output_bytes: 0, last_output_at: null, attached_count: 0, cols: 80, rows: 24,
    ...over,
  } as SessionInfo);
}

test("columns line up; an empty TAGS cell leaves no trailing spaces; long commands are cut", () => {
  const text = sessionTable(
    [
      session({ id: 7, name: "builder", prompt: "make all", tags: ["ci", "x"], created_at: "2026-11-22T11:58:00Z" }),
      session({ id: 12, prompt: "a".repeat(50), status: "completed", exit_code: 0, created_at: "2026-11-22T09:00:00Z" }),
      session({ id: 3, prompt: "false", status: "completed", exit_code: 1, created_at: "2026-11-19T12:00:00Z" }),
    ],
    { width: 30, colour: false, now },
  );
  expect(text.endsWith("\n")).toBe(true);
  expect(text.split("\n").slice(0, -1)).toEqual([
    "ID  NAME     COMMAND                         STATUS         STATE  AGE     TAGS",
    "7   builder  make all                        running        -      2m ago  ci,x",
    `12  -        ${"a".repeat(29)}…  completed (0)  -      3h ago`,
    "3   -        false                           completed (1)  -      3d ago",
  ]);
});

test("colours: green running, red a failure or a lost session, yellow killed, none for a clean exit; bold header", () => {
  const text = sessionTable(
    [
      session({ id: 1 }),
      session({ id: 2, status: "completed", exit_code: 2 }),
      session({ id: 3, status: "killed" }),
      session({ id: 4, status: "completed", exit_code: 0 }),
      session({ id: 5, status: "lost" }),
    ],
    { width: 30, colour: true, now },
  );
  const rows = text.split("\n");
  expect(rows[0]).toStartWith("\x1b[1mID\x1b[0m");
  expect(rows[1]).toContain("\x1b[32mrunning\x1b[0m");
  expect(rows[2]).toContain("\x1b[31mcompleted (2)\x1b[0m");
  expect(rows[3]).toContain("\x1b[33mkilled\x1b[0m");
  expect(rows[4]).not.toContain("\x1b[");
  expect(rows[5]).toContain("\x1b[31mlost\x1b[0m");
  // The colour codes do not count as width: the AGE column starts at the same place in every row.
  const plain = rows.slice(1, 6).map((r) => r.replace(/\x1b\[[0-9;]*m/g, ""));
  expect(new Set(plain.map((r) => r.indexOf("s ago") - 2)).size).toBe(1);
});

test("STATE: what the agent does and for how long; - without one", () => {
  const text = sessionTable(
    [
      session({ id: 1, agent_state: "needs-input", agent_state_since: "2026-11-22T11:56:00Z", agent: "claude", agent_state_source: "hook" }),
      session({ id: 2, agent_state: "working", agent_state_since: "2026-11-22T11:59:48Z", agent: "codex", agent_state_source: "screen" }),
      session({ id: 3, agent_state: "idle", agent_state_since: "2026-11-22T09:00:00Z" }),
      session({ id: 4 }),
    ],
    { width: 30, colour: false, now },
  );
  expect(text.split("\n").slice(0, -1).map((l) => l.split(/\s{2,}/)[4])).toEqual(["STATE", "needs input 4m", "working 12s", "idle 3h", "-"]);
});

test("with the terminal's width, every row fits it: COMMAND is cut first, then TAGS, as ps does", () => {
  const sessions = [
    session({ id: 1, name: "planner", prompt: `claude -p "${"refactor the auth module ".repeat(4)}"`, tags: ["agents", "team-a"] }),
    session({ id: 2, prompt: "sleep 600", status: "completed", exit_code: 0 }),
  ];
  for (const cols of [80, 100, 60]) {
    const rows = sessionTable(sessions, { width: 10_000, colour: false, now, line_width: cols }).split("\n").slice(0, -1);
    for (const r of rows) expect(r.length).toBeLessThanOrEqual(cols);
    expect(rows[1]).toContain("…");
    expect(rows[2]).toContain("sleep 600");
  }
  // Without a width (piped), nothing is cut.
  const full = sessionTable(sessions, { width: 10_000, colour: false, now });
  expect(full).toContain(sessions[0]!.prompt);
});

test("a node draws from its records (Session.tableRow) the table its SessionInfos draw", async () => {
  const cw = new CwHome({ NO_COLOR: "1" });
  try {
    await cw.ok(["launch", "--name", "kept", "--tag", "a", "--tag", "b", "--", "sleep", "30"]);
    await cw.ok(["launch", "--", "sh", "-c", "exit 3"]);
    await cw.ok(["launch", "--name", "gone", "--", "sleep", "31"]);
    await cw.ok(["kill", "gone"]);
    await cw.ok(["wait", "2"]).catch(() => undefined); // exits 3: the session's own status
    const sock = cw.path("codewire.sock");
    const opts = { width: 30, colour: true };
    const drawn = quickCall(sock, { type: "ListSessions", table: opts });
    const infos = quickCall(sock, { type: "ListSessions" });
    if (drawn?.type !== "SessionTable" || infos?.type !== "SessionList") throw new Error(`unexpected replies ${drawn?.type} ${infos?.type}`);
    const ages = (t: string) => t.replace(/\d+s ago/g, "Ns ago");
    expect(drawn.count).toBe(3);
    expect(ages(drawn.text)).toBe(ages(sessionTable(infos.sessions.map(tableRow), { ...opts, now: Date.now() })));
    expect(drawn.text).toContain("completed (3)");
    expect(drawn.text).toContain("killed");
    expect(drawn.text).toMatch(/^1\s+kept\s+sleep 30\s+.*a,b$/m);
  } finally {
    await cw.cleanup();
  }
});
