import { dataDir } from "../../config/paths";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { err, out } from "../output";

export default defineCwCommand({
  name: "web",
  description:
    "Serve a web app for this machine's node on loopback: the sessions, launching and killing, logs, and a terminal in the browser (Ctrl+B d leaves it). Prints a link with a one-time token that signs the browser in; from another machine, reach it through an SSH tunnel. Runs until interrupted.",
  examples: ["cw web", "cw web --listen 127.0.0.1:9000", "ssh -L 8423:127.0.0.1:8423 dev-box cw web   # then open the link on your laptop"],
  args: {
    listen: { type: "string", description: "Loopback address to listen on (host:port; port 0 picks a free one)", default: "127.0.0.1:8423", valueHint: "addr" },
  },
  async run({ args }) {
    const [{ parseListenAddress }, { serveWeb }, { VERSION }] = await Promise.all([import("../../node/websocket"), import("../../web/serve"), import("../../version")]);
    let address: ReturnType<typeof parseListenAddress>;
    try {
      address = parseListenAddress(args.listen as string);
    } catch (e) {
      throw new UsageError((e as Error).message, "give a loopback address such as 127.0.0.1:8423");
    }
    const server = serveWeb({ address, root: dataDir(), version: VERSION });
    out(`cw web: ${server.url}\nOpen this link to sign in (it works once, for 10 minutes):\n  ${server.link}\n`);
    err("Press Ctrl+C to stop.\n");
    await new Promise<void>((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => resolve());
    });
    server.stop();
  },
});
