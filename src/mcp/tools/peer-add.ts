import { z } from "zod";
import { PeerAdd, PeerInfo } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_peer_add",
  title: "Ask a peer to pair",
  description: [
    "Send one signed pair request to another owner's node by its handle (name@relay-host), as `cw peer add` does. It only asks: nothing is delivered either way until the other owner accepts (with `cw peer accept` on their machine).",
    "If that node already asked to pair with this one, this does NOT accept it for your owner: it fails and tells you to ask your owner, since accepting gives the peer write access to your sessions' inboxes. Use it only when your owner asked you to pair with that handle.",
    "Returns the peer (state asked, or already paired).",
  ].join("\n"),
  input: { handle: PeerAdd.shape.handle.describe("The other node's handle: name@relay-host.") },
  output: { peer: PeerInfo, action: z.enum(["requested", "paired", "already", "rejected", "removed"]) },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  onAnyNode: false,
  async run(a) {
    const list = await call({ type: "PeerList", pending: true }, "PeerListResult");
    const waiting = list.peers.find((p) => p.handle === a.handle);
    if (waiting) {
      return {
        text: `${a.handle} (${waiting.nickname}, ${waiting.short}) already asked to pair with this node. Pairing is your owner's decision: ask them to run \`cw peer accept ${a.handle}\` (or reject it).`,
        data: { peer: waiting, action: "requested" as const },
      };
    }
    const r = await call({ type: "PeerAdd", handle: a.handle }, "PeerDone");
    return { text: r.action === "already" ? `Already paired with ${a.handle}.` : `Asked ${a.handle} (${r.peer.nickname}, ${r.peer.short}) to pair; its owner decides.`, data: { peer: r.peer, action: r.action } };
  },
});
