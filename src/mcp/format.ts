/** Short, exact text for the model: one line per session, message or event. */
import { describeStatus, type Message, type SessionEvent, type SessionInfo } from "../protocol";

export function who(s: { id: number; name?: string }): string {
  return s.name ? `${s.id} (${s.name})` : String(s.id);
}

export function sessionLine(s: SessionInfo): string {
  const parts = [`session ${who(s)}`, describeStatus(s), s.prompt];
  // What its agent does: the question a model most often has about a session of agents.
  if (s.agent_state !== "none") parts.push(`${s.agent ?? "agent"} ${s.agent_state} since ${s.agent_state_since}`);
  if (s.tags.length) parts.push(`tags ${s.tags.join(",")}`);
  if (s.duration_ms !== null) parts.push(`${(s.duration_ms / 1000).toFixed(1)}s`);
  parts.push(`${s.output_bytes} bytes of output`);
  return parts.join(" · ");
}

function party(p: Message["from"]): string {
  if (!p) return "user";
  // A session on another node: its node says where to reach it (codewire_* with `node`).
  return p.node ? `${p.node}:${who(p)}` : who(p);
}

export function messageLine(m: Message): string {
  // NEW: not read before this call (reading marks it read).
  const head = `${m.read ? "" : "NEW "}[${m.id}] ${m.created_at} ${party(m.from)} → ${party(m.to)}`;
  if (m.kind === "request") return `${head} REQUEST (${m.status ?? "pending"}): ${m.body}`;
  if (m.kind === "reply") return `${head} REPLY to ${m.request_id}: ${m.body}`;
  return `${head}: ${m.body}`;
}

export function eventLine(e: SessionEvent): string {
  return `${e.at} ${e.type} session ${who({ id: e.session_id, name: e.session_name })} ${JSON.stringify(e.data)}`;
}
