import { call } from "../../client/node-client";
import { RelayClient } from "../../client/relay-client";
import { loadConfig } from "../../config/config";
import { dataDir, pathsFor } from "../../config/paths";
import { writeRelaySettings } from "../../config/relay";
import { NODE_NAME_RE, nodeNameFrom } from "../../protocol/constants";
import { NodeError } from "../../client/errors";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { err, out, printJson, progress, yellow } from "../output";

const CONNECT_WAIT_MS = 10_000;

/**
 * The device flow: the relay gives a code, the operator approves it in a browser (with the admin
 * token), and the relay hands this node its token. Waits, with a progress line, until decided.
 */
async function approvedByOperator(relay: RelayClient, name: string) {
  const start = await relay.deviceAuthorize(name);
  err(`To let ${name} join ${relay.url}, open:\n\n  ${start.verification_uri_complete}\n\nor go to ${start.verification_uri} and enter ${start.user_code}. Approving needs the relay's admin token.\n`);
  const bar = progress();
  const until = Date.now() + start.expires_in * 1000;
  try {
    for (;;) {
      const left = Math.max(0, Math.round((until - Date.now()) / 1000));
      bar.update(`waiting for approval of ${start.user_code} (${Math.floor(left / 60)}m${String(left % 60).padStart(2, "0")}s left)…`);
      await Bun.sleep(start.interval * 1000);
      try {
        const r = await relay.devicePoll(start.device_code);
        if (r.status === "authorized") return r;
      } catch (e) {
        if (e instanceof NodeError && e.code === "denied") throw new NodeError("denied", `the relay's operator denied ${name}`, "ask them, or register with --token or --invite");
        if (e instanceof NodeError && e.code === "expired") throw new NodeError("expired", `the code ${start.user_code} expired before anyone approved it`, "run `cw setup` again");
        throw e;
      }
    }
  } finally {
    bar.done();
  }
}

export default defineCwCommand({
  name: "setup",
  description:
    "Register this machine's node with a relay and connect it: the relay issues a node token (kept in relay.toml, mode 0600; the relay stores only its hash), the node keeps an outbound WebSocket to the relay, and other machines reach it as <name> (`cw list <name>`, `cw attach <name>:<id>`, `ssh <name>@relay -p 2222`). With the relay's admin token or an invite it registers at once; with neither, it shows a code for the relay's operator to approve in a browser, and waits.",
  usage: "cw setup [relay-url] [--token <admin token> | --invite <invite>] [--name <node name>]",
  examples: [
    "cw setup https://relay.example.com                 # prints a code; the operator approves it",
    "cw setup https://relay.example.com --token $CW_AUTH_TOKEN",
    "cw setup https://relay.example.com --invite 8f3k... --name gpu-box",
    "cw setup    # the relay_url of config.toml",
  ],
  args: {
    url: { type: "positional", required: false, description: "The relay's URL (default: relay_url in config.toml, or CODEWIRE_RELAY_URL)" },
    token: { type: "string", description: "The relay's admin token (or set CW_AUTH_TOKEN)" },
    invite: { type: "string", description: "An invite made by the relay's operator, instead of the admin token" },
    name: { type: "string", description: "This node's name on the relay (default: the node's name, else the host name)" },
    json: { type: "boolean", description: "Print the outcome as JSON" },
  },
  async run({ args }) {
    const paths = pathsFor(dataDir());
    const config = loadConfig(paths.config);
    const url = ((args.url as string | undefined) ?? config.relayUrl)?.replace(/\/+$/, "");
    if (!url) throw new UsageError("which relay? give its URL", "cw setup https://relay.example.com --token <admin token>");
    if (!/^https?:\/\//.test(url)) throw new UsageError(`${url}: a relay URL starts with http:// or https://`);
    const host = new URL(url).hostname;
    if (url.startsWith("http://") && !["localhost", "127.0.0.1", "[::1]", "::1"].includes(host)) {
      err(`${yellow("warning:", 2)} ${url} is plain http: tokens and terminal traffic cross the network unencrypted; put the relay behind TLS and use https://\n`);
    }
    const name = (args.name as string | undefined) ?? nodeNameFrom(config.name);
    if (!NODE_NAME_RE.test(name)) throw new UsageError(`${JSON.stringify(name)} is not a valid node name`, "use --name with 1-63 letters, digits and hyphens");
    const invite = args.invite as string | undefined;
    const token = (args.token as string | undefined) || process.env.CW_AUTH_TOKEN || undefined;
    const relay = new RelayClient(url, token);
    const registered = invite || token ? await relay.register(name, invite) : await approvedByOperator(relay, name);
    const { mkdirSync } = require("node:fs") as typeof import("node:fs");
    mkdirSync(paths.root, { recursive: true, mode: 0o700 });
    // The owner's setup (admin token, or an approved device) also gets a user token, which this
    // machine's commands use to reach other nodes; an invite's node reaches only itself.
    writeRelaySettings(paths.relay, { url, node: registered.name, token: registered.token, ...(registered.user_token ? { user_token: registered.user_token } : {}) });

    // Tell the node (starting it if needed) and wait, briefly, to see it connected.
    const bar = progress();
    let state = (await call({ type: "RelayConnect" }, "RelayState")).relay;
    const until = Date.now() + CONNECT_WAIT_MS;
    while (state?.state !== "connected" && Date.now() < until) {
      bar.update(`connecting ${registered.name} to ${url}…`);
      await Bun.sleep(100);
      state = (await call({ type: "RelayStatus" }, "RelayState")).relay;
    }
    bar.done();
    const connected = state?.state === "connected";
    if (args.json) return printJson({ node: registered.name, relay: url, rotated: registered.rotated, connected, ...(state?.error ? { error: state.error } : {}) });
    out(`${registered.rotated ? "re-registered" : "registered"} ${registered.name} with ${url}\n`);
    if (connected) out(`connected: reach it from other machines as ${registered.name} (cw list ${registered.name}, cw attach ${registered.name}:<id>)\n`);
    else err(`${yellow("not connected yet", 2)}${state?.error ? `: ${state.error}` : ""}\nhint: the node keeps retrying; see node.log in ${paths.root}\n`);
  },
});
