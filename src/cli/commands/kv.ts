import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { EXIT, UsageError } from "../errors";
import { err, out, printJson } from "../output";

/** "60", "60s", "5m", "2h" → seconds. */
function ttlSeconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(v);
  if (!m) throw new UsageError(`--ttl takes a duration like 60s, 5m or 2h; got ${JSON.stringify(v)}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s"];
}

export default defineCwCommand({
  name: "kv",
  description: "A shared key-value store for coordinating sessions: set, get, list (by prefix) and delete keys, in namespaces, optionally expiring. Stored by the node (or the relay, when connected to one).",
  usage: "cw kv set|get|list|delete ...",
  examples: ["cw kv set build_status done", "cw kv get build_status", "cw kv list task:", 'cw kv set --ttl 60s lock "node-a"', "cw kv set --ns myproject key value", "cw kv delete build_status"],
  textAfterDash: true,
  args: {
    action: { type: "positional", description: "set, get, list or delete" },
    key: { type: "positional", required: false, description: "The key (for list: a prefix)" },
    value: { type: "positional", required: false, description: "The value (for set)" },
    ns: { type: "string", description: "Namespace (default: default)" },
    ttl: { type: "string", description: "For set: expire after this long (60s, 5m, 2h)", valueHint: "duration" },
    json: { type: "boolean", description: "Print as JSON" },
  },
  async run({ args }) {
    const ns = (args.ns as string | undefined) ?? "default";
    const key = args.key as string | undefined;
    const need = (what: string) => {
      throw new UsageError(`cw kv ${args.action} needs ${what}`, "see cw kv --help");
    };
    switch (args.action) {
      case "set": {
        if (key === undefined || args.value === undefined) need("a key and a value");
        const ttl = ttlSeconds(args.ttl as string | undefined);
        await call({ type: "KVSet", ns, key: key!, value: String(args.value), ...(ttl ? { ttl_s: ttl } : {}) }, "KVSetOK", { blocking: true });
        if (args.json) printJson({ ok: true });
        return;
      }
      case "get": {
        if (key === undefined) need("a key");
        const r = await call({ type: "KVGet", ns, key: key! }, "KVGetResult", { blocking: true });
        if (args.json) printJson(r.entry);
        else if (r.entry) out(`${r.entry.value}\n`);
        else err(`no key ${key} in namespace ${ns}\n`);
        return r.found ? EXIT.ok : EXIT.notFound;
      }
      case "list": {
        const r = await call({ type: "KVList", ns, prefix: key ?? "" }, "KVListResult", { blocking: true });
        if (args.json) return printJson(r.entries);
        for (const e of r.entries) out(`${e.key}\t${e.value}${e.expires_at ? `\t(expires ${e.expires_at})` : ""}\n`);
        return;
      }
      case "delete": {
        if (key === undefined) need("a key");
        const r = await call({ type: "KVDelete", ns, key: key! }, "KVDeleteOK", { blocking: true });
        if (args.json) printJson(r);
        return r.deleted ? EXIT.ok : EXIT.notFound;
      }
      default:
        throw new UsageError(`unknown kv action ${JSON.stringify(args.action ?? "")}`, "use set, get, list or delete");
    }
  },
});
