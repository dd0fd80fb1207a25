import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { dim, out, printJson } from "../output";
import { sessionRef } from "../target";

/** `[fox] noble-canyon` where emoji would not draw (NO_COLOR, dumb terminals, CW_EMOJI=off). */
function face(f: { emoji: string; emoji_name: string; nickname: string }): string {
  const plain = process.env.CW_EMOJI === "off" || process.env.TERM === "dumb" || !process.stdout.isTTY;
  return `${plain ? `[${f.emoji_name}]` : f.emoji} ${f.nickname}`;
}

export default defineCwCommand({
  name: "id",
  description:
    "This node's identity: its handle on the relay, its key's fingerprint and the nickname derived from it. The node makes its Ed25519 key at first start (identity.pem in the data dir, mode 0600) and it never leaves; each session has a key derived from it. `cw id claim <name>` claims name@<relay host> on this machine's relay (first come; the same key may claim again), which publishes the node's signed card.",
  usage: "cw id [--session <s>] [--json] | cw id claim <name>",
  examples: ["cw id", "cw id --json", "cw id claim alice", "cw id --session coder"],
  args: {
    action: { type: "positional", required: false, description: "claim" },
    name: { type: "positional", required: false, description: "For claim: the handle's name (lower-case letters, digits, hyphens)" },
    session: { type: "string", description: "Also show this session's own key", valueHint: "session" },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    let r;
    if (args.action === "claim") {
      if (!args.name) throw new UsageError("cw id claim needs a name", "for example: cw id claim alice");
      r = await call({ type: "IdClaim", name: String(args.name) }, "IdInfo");
    } else if (args.action !== undefined) {
      throw new UsageError(`unknown id action ${JSON.stringify(args.action)}`, "cw id shows the identity; cw id claim <name> claims a handle");
    } else {
      r = await call({ type: "IdShow", ...(args.session ? { session: sessionRef(String(args.session)) } : {}) }, "IdInfo");
    }
    const { type: _t, ...info } = r;
    if (args.json) return printJson(info);
    out(`${face(info)}\n`);
    out(`handle       ${info.handle ?? dim(info.relay ? "none — claim one: cw id claim <name>" : "none — register with a relay first: cw setup <url>")}\n`);
    out(`fingerprint  ${info.short}  ${dim(info.fingerprint)}\n`);
    if (info.relay) out(`relay        ${info.relay}\n`);
    if (info.session) out(`session ${info.session.id}    ${face(info.session)}  ${info.session.short}\n`);
  },
});
