import { z } from "zod";
import { KVEntry, KVGet } from "../../protocol";
import { call } from "../node";
import { defineTool, keepEnd } from "../tool";

export default defineTool({
  name: "codewire_kv_get",
  title: "Get a key",
  description: [
    "Read the value of a key from the shared key-value store (on this node). Expired keys are not found.",
    "Use it to pick up state another agent stored with codewire_kv_set.",
    "Returns found and, when found, the entry (key, value, expires_at).",
  ].join("\n"),
  input: {
    key: KVGet.shape.key.describe("The key."),
    ns: KVGet.shape.ns.describe('Namespace. Default "default".'),
  },
  output: { found: z.boolean(), entry: KVEntry.nullable() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a) {
    const r = await call({ type: "KVGet", ns: a.ns, key: a.key }, "KVGetResult");
    if (!r.found || !r.entry) return { text: `${a.ns}/${a.key} is not set.`, data: { found: false, entry: null } };
    // The structured content has the whole value; the text for the model stays readable.
    const shown = keepEnd(r.entry.value, 16 * 1024);
    const text = `${a.ns}/${a.key}${r.entry.expires_at ? ` (expires ${r.entry.expires_at})` : ""} =\n${shown.cut ? `[first ${Buffer.byteLength(r.entry.value) - Buffer.byteLength(shown.text)} bytes omitted; the full value is in the structured content] ` : ""}${shown.text}`;
    return { text, data: { found: true, entry: r.entry } };
  },
});
