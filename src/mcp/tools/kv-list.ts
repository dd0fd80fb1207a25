import { z } from "zod";
import { KVEntry, KVList } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

const PREVIEW = 200;

export default defineTool({
  name: "codewire_kv_list",
  title: "List keys",
  description: [
    "List the keys (and values) in a namespace of the shared key-value store that start with a prefix, sorted by key. Expired keys are left out.",
    'Use it to see what agents have recorded, e.g. prefix "task:" for every task entry.',
    `Returns up to limit entries with their values; the text shows each value's first ${PREVIEW} characters.`,
  ].join("\n"),
  input: {
    prefix: KVList.shape.prefix.describe('Only keys starting with this. Default "" (all).'),
    ns: KVList.shape.ns.describe('Namespace. Default "default".'),
    limit: z.number().int().min(1).max(1000).default(200).describe("At most this many entries. Default 200."),
  },
  output: { entries: z.array(KVEntry), total: z.number().int(), truncated: z.boolean() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a) {
    const r = await call({ type: "KVList", ns: a.ns, prefix: a.prefix }, "KVListResult");
    const entries = r.entries.slice(0, a.limit);
    const truncated = entries.length < r.entries.length;
    const lines = entries.map((e) => `${e.key} = ${e.value.length > PREVIEW ? `${e.value.slice(0, PREVIEW)}… (${e.value.length} chars)` : e.value}${e.expires_at ? ` (expires ${e.expires_at})` : ""}`);
    const head = `${r.entries.length} key${r.entries.length === 1 ? "" : "s"} in ${a.ns}${a.prefix ? ` with prefix ${JSON.stringify(a.prefix)}` : ""}${truncated ? ` (showing the first ${entries.length}; raise limit for more)` : ""}${r.entries.length ? ":" : "."}`;
    return { text: [head, ...lines].join("\n"), data: { entries, total: r.entries.length, truncated } };
  },
});
