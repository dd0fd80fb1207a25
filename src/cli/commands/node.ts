import { defineCwCommand } from "../define";
import { UsageError } from "../errors";

export default defineCwCommand({
  name: "node",
  description: "Run the node in the foreground, logging to stderr and node.log. One node serves one data directory ($CODEWIRE_HOME, default ~/.codewire); a second one refuses to start.",
  examples: ["cw node", "CODEWIRE_HOME=/tmp/cw cw node"],
  args: {},
  async run() {
    (await import("../../node/runtime-env")).execWithNodeRuntime();
    const { runNode } = await import("../../node/node");
    const { AlreadyRunningError } = await import("../../node/pidfile");
    try {
      await runNode({ foreground: true });
    } catch (e) {
      if (e instanceof AlreadyRunningError) throw new UsageError(e.message, "stop it with `cw stop`, or use another CODEWIRE_HOME");
      throw e;
    }
  },
});
