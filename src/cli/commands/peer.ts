import { call } from "../../client/node-client";
import type { PeerInfo } from "../../protocol";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { dim, out, printJson, table } from "../output";

const STATE: Record<PeerInfo["state"], string> = { pending_in: "wants to pair", pending_out: "asked, waiting", paired: "paired", rejected: "rejected", removed: "removed" };

function refused(p: PeerInfo): string {
  const r = p.refused;
  const parts = Object.entries(r)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  // Not refused by us but given up on by a relay on the way: shown beside, to the same eye.
  if (p.undelivered) parts.push(`${p.undelivered} undelivered`);
  return parts.length ? parts.join(", ") : "-";
}

export default defineCwCommand({
  name: "peer",
  description:
    "Peers are other owners' nodes, by handle (name@relay-host). `add` sends one signed pair request; the other owner sees it in `pending` and runs `accept` (or `reject`). Until both sides are paired nothing from the other reaches an inbox; a stranger gets one pending request and no more. Then `cw msg <handle>:<session> …` and `cw request` reach that peer's sessions, signed and sealed end to end. `remove` stops delivery both ways at once. `list` shows every peer with what was refused from it (tampered, replayed, stale, unpaired). Accepting is the owner's decision: the MCP tools cannot do it.",
  usage: "cw peer add|accept|reject|remove <handle> | cw peer list|pending [--json]",
  examples: ["cw peer add bob@relay.example.com", "cw peer pending", "cw peer accept alice@relay.example.com", "cw peer list --json", "cw peer remove bob@relay.example.com"],
  args: {
    action: { type: "positional", description: "add, pending, accept, reject, list or remove" },
    handle: { type: "positional", required: false, description: "The peer's handle: name@relay-host" },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    const action = String(args.action ?? "");
    const handle = args.handle as string | undefined;
    const needHandle = () => {
      if (!handle) throw new UsageError(`cw peer ${action} needs a handle`, `for example: cw peer ${action} bob@relay.example.com`);
      // A node address keeps its node name's case; a handle is lower-case.
      return handle.startsWith("node:") ? handle : handle.toLowerCase();
    };
    switch (action) {
      case "list":
      case "pending": {
        if (handle) throw new UsageError(`cw peer ${action} takes no handle`);
        const r = await call({ type: "PeerList", pending: action === "pending" }, "PeerListResult");
        if (args.json) return printJson(action === "pending" ? r.peers : { peers: r.peers, refused_strangers: r.refused_strangers });
        if (!r.peers.length) out(dim(action === "pending" ? "no pending pair requests\n" : "no peers — ask one with: cw peer add <name@relay-host>\n"));
        else if (action === "pending") for (const p of r.peers) out(`${p.handle} (${p.nickname}, ${p.short}) wants to pair — cw peer accept ${p.handle}  |  cw peer reject ${p.handle}\n`);
        else out(`${table(["HANDLE", "NICKNAME", "FINGERPRINT", "STATE", "SENT", "RECEIVED", "REFUSED"], r.peers.map((p) => [p.handle, p.nickname, p.short, STATE[p.state], String(p.sent), String(p.received), refused(p)]))}\n`);
        if (action === "list" && r.refused_strangers) out(dim(`${r.refused_strangers} envelope(s) refused from keys that are not peers\n`));
        return;
      }
      case "add": {
        const r = await call({ type: "PeerAdd", handle: needHandle() }, "PeerDone");
        if (args.json) return printJson(r);
        out(r.action === "requested" ? `asked ${r.peer.handle} (${r.peer.nickname}, ${r.peer.short}) to pair; its owner accepts with: cw peer accept <your handle>\n` : r.action === "paired" ? `paired with ${r.peer.handle}\n` : `already paired with ${r.peer.handle}\n`);
        return;
      }
      case "accept":
      case "reject":
      case "remove": {
        const type = action === "accept" ? "PeerAccept" : action === "reject" ? "PeerReject" : "PeerRemove";
        const r = await call({ type, handle: needHandle() }, "PeerDone");
        if (args.json) return printJson(r);
        out(`${r.action} ${r.peer.handle}\n`);
        return;
      }
      default:
        throw new UsageError(`unknown peer action ${JSON.stringify(action)}`, "use add, pending, accept, reject, list or remove");
    }
  },
});
