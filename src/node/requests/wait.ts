/** Wait: until all (or any) of the given sessions have ended, or the timeout. */
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
  const satisfied = () => (req.condition === "any" ? targets.some((s) => !s.running) : targets.every((s) => !s.running));
  if (satisfied()) return finish(false);
  for (const s of targets) cancels.push(s.onExit(() => satisfied() && finish(false)));
  if (req.timeout_s) timer = setTimeout(() => finish(true), req.timeout_s * 1000);
  conn.onClose(stop);
}
