import { connectNode, spawnNode, waitForNode } from "../../client/autostart";
import { dataDir } from "../../config/paths";
import { defineCwCommand } from "../define";
import { call } from "../../client/node-client";
import { out } from "../output";

export default defineCwCommand({
  name: "start",
  description: "Start the node in the background. Usually unnecessary: every command starts it when no node answers.",
  examples: ["cw start", "CODEWIRE_HOME=/tmp/cw-test cw start"],
  args: {},
  async run() {
    const root = dataDir();
    try {
      (await connectNode(root, false)).close();
      const pong = await call({ type: "Ping" }, "Pong", { autoStart: false });
      out(`node already running (pid ${pong.pid}, ${pong.data_dir})\n`);
      return;
    } catch {
      /* not running: start it */
    }
    (await waitForNode(root, spawnNode(root))).close();
    const pong = await call({ type: "Ping" }, "Pong", { autoStart: false });
    out(`node started (pid ${pong.pid}, ${pong.data_dir})\n`);
  },
});
