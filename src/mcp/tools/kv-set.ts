import { z } from "zod";
import { KV_MAX_VALUE_BYTES, KVSet } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_kv_set",
  title: "Set a key",
  description: [
    "Store a string value under a key in the shared key-value store (on this node; shared by every session and agent using it), optionally expiring after ttl_s seconds. Keys live in namespaces (default \"default\").",
    'Use it to share state between agents: results (build_status = "done"), claimed work items (task:42 = "worker-3"), or a lock.',
    "For a lock or to claim work, set if_absent: true (with a ttl_s so a crashed holder's lock frees itself): of any number of agents racing, exactly one gets stored: true. Release it with codewire_kv_delete and if_value = the value you stored.",
    "Returns stored, the namespace, key and when it expires (null: never). Without if_absent it overwrites an existing value.",
  ].join("\n"),
  input: {
    key: KVSet.shape.key.describe("The key, e.g. \"build_status\" or \"task:42\"."),
    value: KVSet.shape.value.describe(`The value (a string; encode structured data as JSON). At most ${KV_MAX_VALUE_BYTES} bytes (1 MiB) of UTF-8.`),
    ns: KVSet.shape.ns.describe('Namespace (letters, digits, . _ : -). Default "default".'),
    ttl_s: KVSet.shape.ttl_s.describe("Expire the key after this many seconds (more than 0). Default: never."),
    if_absent: z.boolean().default(false).describe("Store only if the key is not set (or has expired), atomically. Default false."),
  },
  output: { stored: z.boolean(), ns: z.string(), key: z.string(), expires_at: z.string().nullable() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(a) {
    const r = await call({ type: "KVSet", ns: a.ns, key: a.key, value: a.value, ...(a.ttl_s ? { ttl_s: a.ttl_s } : {}), ...(a.if_absent ? { if_absent: true } : {}) }, "KVSetOK");
    if (r.stored === false) return { text: `Not set: ${a.ns}/${a.key} is already set (if_absent). Someone else holds it; read it with codewire_kv_get.`, data: { stored: false, ns: a.ns, key: a.key, expires_at: null } };
    const expires_at = a.ttl_s ? new Date(Date.now() + a.ttl_s * 1000).toISOString() : null;
    return { text: `Set ${a.ns}/${a.key} (${Buffer.byteLength(a.value)} bytes${expires_at ? `, expires ${expires_at}` : ""}).`, data: { stored: true, ns: a.ns, key: a.key, expires_at } };
  },
});
