import { z } from "zod";
import { KVSet } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_kv_set",
  title: "Set a key",
  description: [
    "Store a string value under a key in the shared key-value store (on this node; shared by every session and agent using it), optionally expiring after ttl_s seconds. Keys live in namespaces (default \"default\").",
    'Use it to share state between agents: results (build_status = "done"), claimed work items (task:42 = "worker-3"), or a lock with a ttl so it frees itself.',
    "Returns the namespace, key and when it expires (null: never). Overwrites an existing value.",
  ].join("\n"),
  input: {
    key: KVSet.shape.key.describe("The key, e.g. \"build_status\" or \"task:42\"."),
    value: KVSet.shape.value.describe("The value (a string; encode structured data as JSON). At most 1 MiB."),
    ns: KVSet.shape.ns.describe('Namespace (letters, digits, . _ : -). Default "default".'),
    ttl_s: KVSet.shape.ttl_s.describe("Expire the key after this many seconds. Default: never."),
  },
  output: { ns: z.string(), key: z.string(), expires_at: z.string().nullable() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(a) {
    await call({ type: "KVSet", ns: a.ns, key: a.key, value: a.value, ...(a.ttl_s ? { ttl_s: a.ttl_s } : {}) }, "KVSetOK");
    const expires_at = a.ttl_s ? new Date(Date.now() + a.ttl_s * 1000).toISOString() : null;
    return { text: `Set ${a.ns}/${a.key} (${Buffer.byteLength(a.value)} bytes${expires_at ? `, expires ${expires_at}` : ""}).`, data: { ns: a.ns, key: a.key, expires_at } };
  },
});
