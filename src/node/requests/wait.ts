/**
 * Wait: until all (or any) of the given sessions have ended, or the timeout. With `state`: until
 * their agents are in that state (needs-input, idle); a session that ends can no longer get
 * there, so once that leaves the condition out of reach the wait ends, unmet.
 */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import type { Session } from "../session";

export function wait(req: RequestOf<"Wait">, conn: Connection, ctx: NodeContext) {
  const set = new Map<number, Session>();
  for (const ref of req.ids) {
    const s = ctx.sessions.get(ref);
    set.set(s.id, s);
  }
  if (req.tags?.length) for (const s of ctx.sessions.byTags(req.tags)) set.set(s.id, s);
  const targets = [...set.values()];
  if (targets.length === 0) {
    throw new ProtocolError("not_found", req.tags?.length ? `no session has tag ${req.tags.join(" or ")}` : "nothing to wait for", "name sessions by id or name, or use --tag");
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const cancels: (() => void)[] = [];
  const stop = () => {
    done = true;
    if (timer) clearTimeout(timer);
    for (const c of cancels) c();
  };
  const finish = (timedOut: boolean) => {
    if (done) return;
    stop();
    conn.reply({ type: "WaitResult", sessions: targets.map((s) => s.info()), timed_out: timedOut });
    conn.end();
  };
  const state = req.state;
  const done_ = (s: Session) => (state ? s.running && s.info().agent_state === state : !s.running);
  const satisfied = () => (req.condition === "any" ? targets.some(done_) : targets.every(done_));
  // Waiting for a state: nothing more can happen once every session (any) or one of them (all) has ended.
  const hopeless = () => !!state && (req.condition === "any" ? targets.every((s) => !s.running) : targets.some((s) => !s.running));
  const check = () => (satisfied() || hopeless()) && finish(false);
  if (satisfied() || hopeless()) return finish(false);
  for (const s of targets) cancels.push(s.onExit(check));
  if (state) cancels.push(ctx.events.subscribe({ types: ["session.state"] }, (e) => set.has(e.session_id) && check()));
  if (req.timeout_s) timer = setTimeout(() => finish(true), req.timeout_s * 1000);
  conn.onClose(stop);
}
