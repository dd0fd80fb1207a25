import { existsSync } from "node:fs";
import { call } from "../../client/node-client";
import { NodeUnavailableError } from "../../client/errors";
import { dataDir, pathsFor } from "../../config/paths";
import { defineCwCommand } from "../define";
import { out } from "../output";

export default defineCwCommand({
  name: "stop",
  description: "Stop the node gracefully: running programs get SIGHUP/SIGTERM, their sessions are recorded, the socket is removed.",
  examples: ["cw stop"],
  args: {},
  async run() {
    const paths = pathsFor(dataDir());
    let pid: number;
    try {
      pid = (await call({ type: "Ping" }, "Pong", { autoStart: false })).pid;
    } catch (e) {
      if (e instanceof NodeUnavailableError) {
        out("no node is running\n");
        return;
      }
      throw e;
    }
    await call({ type: "Shutdown" }, "ShuttingDown", { autoStart: false });
    const until = Date.now() + 10_000;
    while (Date.now() < until && existsSync(paths.pid)) await Bun.sleep(20);
    out(existsSync(paths.pid) ? `node (pid ${pid}) is still stopping\n` : `node stopped (pid ${pid})\n`);
  },
});
