import { z } from "zod";
import { PeerInfo } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_peers",
  title: "List peers and pair requests",
  description: [
    "List this node's peers: other owners' nodes, by handle (name@relay-host), with their state (paired; wants to pair = a pending request for your owner; asked = waiting for the other owner; rejected; removed), messages sent and received, and envelopes refused from each (tampered, replayed, stale, unpaired).",
    "pending_only=true lists only the requests waiting for your owner's decision. Accepting or rejecting a request is the owner's decision and cannot be done with these tools: tell your owner who asks (handle, nickname, fingerprint) and that they can run `cw peer accept <handle>` or `cw peer reject <handle>`. Never pretend a peer is paired.",
    "A paired peer's session is messaged with codewire_peer_msg. Returns the peers and how many envelopes were refused from keys that are no peer at all.",
  ].join("\n"),
  input: { pending_only: z.boolean().default(false).describe("Only the pair requests waiting for your owner's decision.") },
  output: { peers: z.array(PeerInfo), refused_strangers: z.number().int() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  onAnyNode: false,
  async run(a) {
    const r = await call({ type: "PeerList", pending: a.pending_only }, "PeerListResult");
    const lines = r.peers.map((p) => `${p.handle} (${p.nickname}, ${p.short}): ${p.state === "pending_in" ? "wants to pair — your owner decides: cw peer accept|reject " + p.handle : p.state}`);
    return { text: lines.length ? lines.join("\n") : a.pending_only ? "No pair requests are waiting." : "No peers yet.", data: { peers: r.peers, refused_strangers: r.refused_strangers } };
  },
});
