import { z } from "zod";
import { SessionEvent } from "../../protocol";
import { events, session, tags } from "../fields";
import { eventLine } from "../format";
import { stream } from "../node";
import { defineTool, seconds } from "../tool";

export default defineTool({
  name: "codewire_subscribe",
  title: "Collect session events",
  description: [
    "Collect session events as they happen, from the moment of the call, for up to timeout_s seconds or until max_events arrived: sessions created, status changes (completed, killed, with exit codes), output summaries, input, attach/detach, agent state changes (session.state: working, needs-input, idle, none), and messages (direct.message, message.request, message.reply).",
    'Use it to react to whatever happens next across a group of sessions, e.g. {"tags":["worker"],"events":["session.status"],"max_events":1} returns at the first worker status change. To wait for sessions to finish, codewire_wait_for is simpler.',
    "Returns the events in order, each with seq, type, session_id, session_name, tags, time and data, and why collection stopped.",
  ].join("\n"),
  input: {
    session: session.optional().describe("Only events of this session (id or name)."),
    tags: tags.optional(),
    events: events.optional(),
    timeout_s: seconds("Stop collecting after this many seconds.", 10, 300),
    max_events: z.number().int().min(1).max(500).default(50).describe("Return as soon as this many events arrived. Default 50."),
  },
  output: { events: z.array(SessionEvent), ended: z.enum(["max_events", "timeout", "cancelled", "closed"]) },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a, ctx) {
    const got: SessionEvent[] = [];
    const started = Date.now();
    const end = await stream(
      {
        type: "Subscribe",
        ...(a.session !== undefined ? { session: a.session } : {}),
        ...(a.tags ? { tags: a.tags } : {}),
        ...(a.events ? { events: a.events } : {}),
      },
      ctx,
      a.timeout_s * 1000,
      (_f, r) => {
        if (r?.type !== "Event") return false;
        got.push(r.event);
        ctx.progress((Date.now() - started) / 1000, a.timeout_s, eventLine(r.event).slice(0, 200));
        return got.length >= a.max_events;
      },
    );
    const ended = end === "stopped" ? ("max_events" as const) : end === "deadline" ? ("timeout" as const) : end;
    const head = `${got.length} event${got.length === 1 ? "" : "s"} (${ended === "max_events" ? `reached max_events ${a.max_events}` : ended === "timeout" ? `collected for ${a.timeout_s}s` : ended})${got.length ? ":" : "."}`;
    return { text: [head, ...got.map(eventLine)].join("\n"), data: { events: got, ended } };
  },
});
