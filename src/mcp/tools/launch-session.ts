import { launchPlacement } from "../../client/launch-placement";
import { z } from "zod";
import { Launch, SessionInfo, SessionName, Tag } from "../../protocol";
import { who } from "../format";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_launch_session",
  title: "Launch a session",
  description: [
    "Start a program (an AI agent CLI, a build, a test run, a server) in a new persistent terminal session on this machine. It keeps running after this call returns and after you disconnect.",
    'Use it to run work in the background or in parallel: e.g. command ["claude","-p","write tests for auth"] or ["bash","-c","npm test 2>&1"]. Give a name to address the session in messages, and tags to wait for or kill a group of sessions at once.',
    "Returns the new session (id, name, status, pid). Next: codewire_wait_for to block until it ends, codewire_read_session_output to see what it printed, codewire_send_input to type into it.",
  ].join("\n"),
  input: {
    command: Launch.shape.command.describe("The program and its arguments, one array element each (no shell parsing). For shell syntax (pipes, &&) use [\"bash\",\"-c\",\"...\"]."),
    name: SessionName.optional().describe("Unique name among running sessions: 1-32 letters, digits and hyphens, starting with a letter or digit, not all digits (a number is a session id)."),
    working_dir: z.string().min(1).optional().describe("Directory to run in. Default: this MCP server's working directory (on a remote node reached with --server: the node's home)."),
    tags: z.array(Tag).max(32).optional().describe('Labels for grouping, e.g. ["worker","build"].'),
    env: z.record(z.string(), z.string()).optional().describe("Extra environment variables; the session also inherits this server's environment."),
    pty: z
      .boolean()
      .default(true)
      .describe("Run on a terminal (default). false: pipes instead, for scripts and data rather than TUIs: output exactly as written (no CR before each LF), input not echoed."),
  },
  output: { session: SessionInfo },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a) {
    const { session } = await call(
      {
        type: "Launch",
        command: a.command,
        ...(a.name ? { name: a.name } : {}),
        ...launchPlacement(a.working_dir, a.env ?? {}),
        tags: a.tags ?? [],
        ...(a.pty ? {} : { terminal: false }),
        // Wide enough that agent TUIs do not wrap everything.
        cols: 120,
        rows: 40,
      },
      "Launched",
    );
    return {
      text: `Launched session ${who(session)} (pid ${session.pid}): ${session.prompt}\nin ${session.working_dir}${session.tags.length ? `, tags ${session.tags.join(",")}` : ""}`,
      data: { session },
    };
  },
});
