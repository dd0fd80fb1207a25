import { z } from "zod";
import { KVDelete } from "../../protocol";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_kv_delete",
  title: "Delete a key",
  description: [
    "Delete a key from the shared key-value store (on this node).",
    "Use it to release a lock or clear state that is no longer true. To release a lock, pass if_value = the value you stored: it is deleted only while it still holds that value, so you never release a lock someone else took after yours expired.",
    "Returns deleted: true when the key existed (and held if_value, when given).",
  ].join("\n"),
  input: {
    key: KVDelete.shape.key.describe("The key."),
    ns: KVDelete.shape.ns.describe('Namespace. Default "default".'),
    if_value: KVDelete.shape.if_value.describe("Delete only while the key holds exactly this value. Default: delete whatever it holds."),
  },
  output: { deleted: z.boolean() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(a) {
    const r = await call({ type: "KVDelete", ns: a.ns, key: a.key, ...(a.if_value !== undefined ? { if_value: a.if_value } : {}) }, "KVDeleteOK");
    const notDeleted = a.if_value !== undefined ? `${a.ns}/${a.key} was not deleted: it is not set or holds another value.` : `${a.ns}/${a.key} was not set.`;
    return { text: r.deleted ? `Deleted ${a.ns}/${a.key}.` : notDeleted, data: { deleted: r.deleted } };
  },
});
