/**
 * The table `cw list` prints. The node draws it (ListSessions with `table`), warm; a client
 * draws it only for a node too old to. It is written for a cold start all the same:
 *
 * two loops of one turn per row, each row's columns written out, and no calls into our own
 * functions per row. A command runs this once, cold, and JavaScriptCore JIT-compiles any function
 * called per row, or a loop that turns over every cell (as table() in output.ts does), after a few
 * hundred turns, on threads it starts for that, for work a short command never gets back. With
 * 100 sessions that was 7 compiles, then 1 (table), now none: `cw list` 8.5 → 7.5 ms.
 * So the status text and colour (describeStatus, green/red/yellow), the agent state
 * (describeAgentState) and the age (ago() in output.ts) are written out inline here rather than
 * called per row; change them together.
 */
import { describeStatus } from "./constants";
import type { SessionInfo } from "./session";

/**
 * What a row shows of a session: SessionInfo's fields the table needs, its times in ms. The node
 * builds these from its records (Session.tableRow) rather than whole SessionInfos, which the
 * table mostly does not show; a client drawing for an older node converts with tableRow().
 */
export interface TableRow {
  id: number;
  name?: string | null;
  prompt: string;
  status: SessionInfo["status"];
  exit_code: number | null;
  orphan_pid?: number | null;
  survivors?: number[];
  tags: string[];
  /** created_at, in ms since the epoch. */
  created_ms: number;
  agent_state?: SessionInfo["agent_state"];
  /** agent_state_since, in ms since the epoch; null or absent: never changed. */
  agent_state_since_ms?: number | null;
}

/** A SessionInfo as a table row. */
export function tableRow(s: SessionInfo): TableRow {
  return { ...s, created_ms: Date.parse(s.created_at), agent_state_since_ms: s.agent_state_since ? Date.parse(s.agent_state_since) : null };
}

/** Padding is cut from this (a column is never wider than a terminal line). */
const SPACES = " ".repeat(1024);

export interface SessionTableOptions {
  /** Longest COMMAND shown; longer ones are cut with "…". */
  width: number;
  /**
   * The terminal's width: COMMAND is cut further (to 12 characters, then TAGS, then COMMAND to
   * 7) so that a row fits, as ps does; narrower still, rows wrap. Absent (not a terminal): no limit.
   */
  line_width?: number;
  /** Colour: a bold header, and STATUS green when running, red when failed or lost, yellow when killed. */
  colour: boolean;
  /** The time AGE counts from (ms since the epoch). */
  now: number;
}

/**
 * ID, NAME, COMMAND, STATUS, STATE, AGE and TAGS of each session, aligned, ending in a newline.
 * STATE is what its agent does and for how long ("needs input 4m"); "-" without an agent.
 */
export function sessionTable(sessions: TableRow[], { width, colour, now, line_width }: SessionTableOptions): string {
  const n = sessions.length;
  const ids: string[] = [];
  const names: string[] = [];
  const commands: string[] = [];
  const statuses: string[] = [];
  const colours: string[] = [];
  const states: string[] = [];
  const ages: string[] = [];
  const tagLists: string[] = [];
  const w = [2, 4, 7, 6, 5, 3]; // ID NAME COMMAND STATUS STATE AGE
  let tagsWidth = 4;
  for (let i = 0; i < n; i++) {
    const s = sessions[i]!;
    const status = describeStatus(s);
    let code = s.status === "running" ? "32" : s.status === "killed" ? "33" : "31";
    if (s.status === "completed" && s.exit_code === 0) code = "";
    const secs = Math.max(0, Math.round((now - s.created_ms) / 1000));
    const id = String(s.id);
    const name = s.name ?? "-";
    const command = s.prompt;
    const st = s.agent_state ?? "none";
    const held = s.agent_state_since_ms ? Math.max(0, Math.round((now - s.agent_state_since_ms) / 1000)) : 0;
    const state = st === "none" ? "-" : `${st === "needs-input" ? "needs input" : st} ${held < 60 ? `${held}s` : held < 3600 ? `${Math.floor(held / 60)}m` : held < 86400 ? `${Math.floor(held / 3600)}h` : `${Math.floor(held / 86400)}d`}`;
    const age = secs < 60 ? `${secs}s ago` : secs < 3600 ? `${Math.floor(secs / 60)}m ago` : secs < 86400 ? `${Math.floor(secs / 3600)}h ago` : `${Math.floor(secs / 86400)}d ago`;
    ids.push(id);
    names.push(name);
    commands.push(command);
    statuses.push(status);
    colours.push(colour && code ? code : "");
    states.push(state);
    ages.push(age);
    const tagList = s.tags.join(",");
    tagLists.push(tagList);
    if (tagList.length > tagsWidth) tagsWidth = tagList.length;
    if (id.length > w[0]!) w[0] = id.length;
    if (name.length > w[1]!) w[1] = name.length;
    if (command.length > w[2]!) w[2] = command.length;
    if (status.length > w[3]!) w[3] = status.length;
    if (state.length > w[4]!) w[4] = state.length;
    if (age.length > w[5]!) w[5] = age.length;
  }
  // COMMAND gets what the other columns leave of the line (and never more than `width`); when
  // even 12 characters do not fit, TAGS gives way too.
  const others = w[0]! + w[1]! + w[3]! + w[4]! + w[5]! + 2 * 5;
  let commandMax = width;
  let tagsMax = Number.POSITIVE_INFINITY;
  if (line_width !== undefined) {
    commandMax = Math.min(width, Math.max(12, line_width - others - 2 - tagsWidth));
    // Tags as narrow as their header, and still too wide: COMMAND down to its header's width.
    if (others + 2 + commandMax + 4 > line_width) commandMax = Math.max(7, line_width - others - 2 - 4);
    tagsMax = Math.max(4, line_width - others - 2 - commandMax);
  }
  if (w[2]! > commandMax) w[2] = Math.max(7, commandMax);
  for (let i = 0; i < n; i++) {
    const c = commands[i]!;
    if (c.length > commandMax) commands[i] = `${c.slice(0, commandMax - 1)}…`;
    const t = tagLists[i]!;
    if (t.length > tagsMax) tagLists[i] = `${t.slice(0, tagsMax - 1)}…`;
  }
  const pad = (used: number, col: number) => SPACES.slice(0, w[col]! - used + 2);
  const bold = (h: string) => (colour ? `\x1b[1m${h}\x1b[0m` : h);
  const header = ["ID", "NAME", "COMMAND", "STATUS", "STATE", "AGE"].map((h, i) => bold(h) + pad(h.length, i)).join("") + bold("TAGS");
  const parts: string[] = [header];
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const name = names[i]!;
    const command = commands[i]!;
    const status = statuses[i]!;
    const state = states[i]!;
    const age = ages[i]!;
    parts.push(
      `\n${id}${SPACES.slice(0, w[0]! - id.length + 2)}${name}${SPACES.slice(0, w[1]! - name.length + 2)}${command}${SPACES.slice(0, w[2]! - command.length + 2)}`,
      colours[i] ? `\x1b[${colours[i]}m${status}\x1b[0m` : status,
      `${SPACES.slice(0, w[3]! - status.length + 2)}${state}${SPACES.slice(0, w[4]! - state.length + 2)}`,
      tagLists[i] ? `${age}${SPACES.slice(0, w[5]! - age.length + 2)}${tagLists[i]}` : age,
    );
  }
  parts.push("\n");
  return parts.join("");
}
