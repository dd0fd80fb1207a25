/**
 * SendInput: type into a session. With `enter`, the text is submitted the one way every sender
 * uses (messaging/pty-delivery.ts) and the reply says whether the program was seen to take it.
 */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import { asTyped, submitLine } from "../messaging/pty-delivery";

export async function sendInput(req: RequestOf<"SendInput">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running) throw new ProtocolError("not_running", `session ${s.id} is not running (${s.record.status})`, `cw logs ${s.id} shows what it printed`);
  const bytes = req.data_b64 !== undefined ? Buffer.from(req.data_b64, "base64") : Buffer.from(req.data ?? "", "utf8");
  ctx.events.emit(s.source, "session.input", { bytes: bytes.length, source: "send" });
  if (req.raw || !req.enter) {
    // Typed as is; on a terminal newlines are the CRs a terminal would send (raw keeps even those).
    s.write(req.raw || !s.onTerminal ? bytes : asTyped(bytes));
    conn.reply({ type: "InputSent", bytes: bytes.length });
    return conn.end();
  }
  // The client ends the text with the Enter itself, so that a node before this one still submits.
  const text = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
  const submit = await submitLine(s, ctx.screens, text);
  conn.reply({ type: "InputSent", bytes: bytes.length, ...(submit ? { submit } : {}) });
  conn.end();
}
