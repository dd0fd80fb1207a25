import { z } from "zod";
import { KVDelete } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_kv_delete",
  title: "Delete a key",
  description: [
    "Delete a key from the shared key-value store (on this node).",
    "Use it to release a lock or clear state that is no longer true.",
    "Returns deleted: true when the key existed.",
  ].join("\n"),
  input: {
    key: KVDelete.shape.key.describe("The key."),
    ns: KVDelete.shape.ns.describe('Namespace. Default "default".'),
  },
  output: { deleted: z.boolean() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(a) {
    const r = await call({ type: "KVDelete", ns: a.ns, key: a.key }, "KVDeleteOK");
    return { text: r.deleted ? `Deleted ${a.ns}/${a.key}.` : `${a.ns}/${a.key} was not set.`, data: { deleted: r.deleted } };
  },
});
