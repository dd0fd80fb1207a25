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

/** Padding is cut from this (a column is never wider than a terminal line). */
const SPACES = " ".repeat(1024);

export interface SessionTableOptions {
  /** Longest COMMAND shown; longer ones are cut with "…". */
  width: number;
  /** Colour: a bold header, and STATUS green when running, red when failed or lost, yellow when killed. */
  colour: boolean;
  /** The time AGE counts from (ms since the epoch). */
  now: number;
}

/**
 * ID, NAME, COMMAND, STATUS, STATE, AGE and TAGS of each session, aligned, ending in a newline.
 * STATE is what its agent does and for how long ("needs input 4m"); "-" without an agent.
 */
export function sessionTable(sessions: SessionInfo[], { width, colour, now }: SessionTableOptions): string {
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
  for (let i = 0; i < n; i++) {
    const s = sessions[i]!;
    const status = describeStatus(s);
    let code = s.status === "running" ? "32" : s.status === "killed" ? "33" : "31";
    if (s.status === "completed" && s.exit_code === 0) code = "";
    const secs = Math.max(0, Math.round((now - Date.parse(s.created_at)) / 1000));
    const id = String(s.id);
    const name = s.name ?? "-";
    const command = s.prompt.length <= width ? s.prompt : `${s.prompt.slice(0, width - 1)}…`;
    const st = s.agent_state ?? "none";
    const held = s.agent_state_since ? Math.max(0, Math.round((now - Date.parse(s.agent_state_since)) / 1000)) : 0;
    const state = st === "none" ? "-" : `${st === "needs-input" ? "needs input" : st} ${held < 60 ? `${held}s` : held < 3600 ? `${Math.floor(held / 60)}m` : held < 86400 ? `${Math.floor(held / 3600)}h` : `${Math.floor(held / 86400)}d`}`;
    const age = secs < 60 ? `${secs}s ago` : secs < 3600 ? `${Math.floor(secs / 60)}m ago` : secs < 86400 ? `${Math.floor(secs / 3600)}h ago` : `${Math.floor(secs / 86400)}d ago`;
    ids.push(id);
    names.push(name);
    commands.push(command);
    statuses.push(status);
    colours.push(colour && code ? code : "");
    states.push(state);
    ages.push(age);
    tagLists.push(s.tags.join(","));
    if (id.length > w[0]!) w[0] = id.length;
    if (name.length > w[1]!) w[1] = name.length;
    if (command.length > w[2]!) w[2] = command.length;
    if (status.length > w[3]!) w[3] = status.length;
    if (state.length > w[4]!) w[4] = state.length;
    if (age.length > w[5]!) w[5] = age.length;
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
