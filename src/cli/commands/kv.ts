import { readFileSync } from "node:fs";
import { call } from "../../client/node-client";
import { KV_MAX_VALUE_BYTES } from "../../protocol";
import { defineCwCommand } from "../define";
import { CommandError, EXIT, UsageError } from "../errors";
import { dim, err, out, printJson } from "../output";

/** "60", "60s", "5m", "2h" → seconds. */
function ttlSeconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(v);
  if (!m) throw new UsageError(`--ttl takes a duration like 60s, 5m or 2h; got ${JSON.stringify(v)}`);
  const s = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s"];
  // 0 once meant "forever" here: refused rather than guessed at.
  if (s === 0) throw new UsageError("--ttl must be more than 0", "leave --ttl out for a key that never expires; to remove a key, cw kv delete it");
  return s;
}

/**
 * The node answers from its own store until this machine has a relay, then from the relay's,
 * which every node shares. Keys in the local store are not shared: say so each time, on stderr,
 * so that nobody mistakes them for the shared ones (nor misses them after `cw setup`).
 */
function sayStore(store: "local" | "relay" | undefined, asked: boolean): void {
  if (store !== "local") return;
  err(dim(asked ? "[cw] kv: this node's local store (--local)\n" : "[cw] kv: this node's local store (no relay; `cw setup` gives every node one shared store)\n", 2));
}

export default defineCwCommand({
  name: "kv",
  description:
    "A key-value store for coordinating sessions: set, get, list (by prefix) and delete keys, in namespaces, optionally expiring; --if-absent makes a set a lock. Which store answers: without a relay, this node's local store (kv.db; stderr says so each time); once this machine has a relay (`cw setup`), the relay's, which every node shares. --local reaches the node's own store even then (keys set before `cw setup` stay there).",
  usage: "cw kv set|get|list|delete [--local] ...",
  examples: [
    "cw kv set build_status done",
    "cw kv get build_status",
    "cw kv list task:",
    'cw kv set --if-absent --ttl 60s lock "node-a" && echo "got the lock"',
    'cw kv delete --if-value "node-a" lock',
    "cw kv set --ns myproject key value",
    "cw kv set --file report.json report",
    "cw kv delete build_status",
    "cw kv list --local       # this node's own store, also when a relay's answers",
  ],
  textAfterDash: true,
  args: {
    action: { type: "positional", description: "set, get, list or delete" },
    key: { type: "positional", required: false, description: "The key (for list: a prefix)" },
    value: { type: "positional", required: false, description: "The value (for set)" },
    ns: { type: "string", description: "Namespace (default: default)" },
    ttl: { type: "string", description: "For set: expire after this long (60s, 5m, 2h; more than 0)", valueHint: "duration" },
    "if-absent": { type: "boolean", description: "For set: store only if the key is not set (or has expired), atomically: a lock. Exits 1 if it was set" },
    "if-value": { type: "string", description: "For delete: delete only while the key holds exactly this value (release only your own lock)", valueHint: "value" },
    stdin: { type: "boolean", description: `For set: read the value from standard input (a value is at most ${KV_MAX_VALUE_BYTES} bytes of UTF-8, 1 MiB, on every path)` },
    file: { type: "string", description: "For set: read the value from this file", valueHint: "path" },
    local: { type: "boolean", description: "Use this node's own store even when this machine has a relay" },
    json: { type: "boolean", description: "Print as JSON" },
  },
  async run({ args }) {
    const ns = (args.ns as string | undefined) ?? "default";
    const key = args.key as string | undefined;
    const local = Boolean(args.local);
    const need = (what: string) => {
      throw new UsageError(`cw kv ${args.action} needs ${what}`, "see cw kv --help");
    };
    if (args.action !== "set" && args.value !== undefined) {
      throw new UsageError(`too many arguments for cw kv ${args.action}: ${JSON.stringify(args.value)} left over`, `cw kv ${args.action} takes ${args.action === "list" ? "[prefix]" : "<key>"}; only set takes a value`);
    }
    switch (args.action) {
      case "set": {
        const value = await setValue(args);
        if (key === undefined || value === undefined) need("a key and a value");
        const ttl = ttlSeconds(args.ttl as string | undefined);
        const ifAbsent = args["if-absent"] === true;
        const r = await call({ type: "KVSet", ns, key: key!, value: value!, local, ...(ttl ? { ttl_s: ttl } : {}), ...(ifAbsent ? { if_absent: true } : {}) }, "KVSetOK", { blocking: true });
        sayStore(r.store, local);
        const stored = r.stored !== false;
        if (args.json) printJson({ ok: true, stored, store: r.store ?? null });
        if (stored) return;
        if (!args.json) err(`not set: key ${key} in namespace ${ns} is already set (--if-absent)\n`);
        return EXIT.error;
      }
      case "get": {
        if (key === undefined) need("a key");
        const r = await call({ type: "KVGet", ns, key: key!, local }, "KVGetResult", { blocking: true });
        sayStore(r.store, local);
        if (args.json) printJson(r.entry);
        else if (r.entry) out(`${r.entry.value}\n`);
        else err(`no key ${key} in namespace ${ns}\n`);
        return r.found ? EXIT.ok : EXIT.notFound;
      }
      case "list": {
        const r = await call({ type: "KVList", ns, prefix: key ?? "", local }, "KVListResult", { blocking: true });
        sayStore(r.store, local);
        if (args.json) return printJson(r.entries);
        for (const e of r.entries) out(`${e.key}\t${e.value}${e.expires_at ? `\t(expires ${e.expires_at})` : ""}\n`);
        return;
      }
      case "delete": {
        if (key === undefined) need("a key");
        const ifValue = args["if-value"] as string | undefined;
        const r = await call({ type: "KVDelete", ns, key: key!, local, ...(ifValue !== undefined ? { if_value: ifValue } : {}) }, "KVDeleteOK", { blocking: true });
        sayStore(r.store, local);
        if (args.json) printJson(r);
        else if (!r.deleted) err(ifValue !== undefined ? `not deleted: key ${key} in namespace ${ns} is not set or holds another value (--if-value)\n` : `no key ${key} in namespace ${ns}: nothing deleted\n`);
        return r.deleted ? EXIT.ok : EXIT.notFound;
      }
      default:
        throw new UsageError(`unknown kv action ${JSON.stringify(args.action ?? "")}`, "use set, get, list or delete");
    }
  },
});

/** The value for set: the argument, or --stdin, or --file (one of them), at most the limit. */
async function setValue(args: Record<string, unknown>): Promise<string | undefined> {
  const given = [args.value !== undefined, args.stdin === true, args.file !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError("give the value once: as an argument, with --stdin, or with --file");
  let value: string | undefined;
  if (args.stdin === true) value = await Bun.stdin.text();
  else if (args.file !== undefined) {
    try {
      value = readFileSync(String(args.file), "utf8");
    } catch (e) {
      throw new CommandError(`cannot read ${String(args.file)}: ${(e as Error).message}`, "check the path; `--stdin` reads standard input instead");
    }
  } else value = args.value === undefined ? undefined : String(args.value);
  if (value !== undefined && Buffer.byteLength(value) > KV_MAX_VALUE_BYTES) {
    throw new UsageError(`the value is ${Buffer.byteLength(value)} bytes; a value is at most ${KV_MAX_VALUE_BYTES} bytes (1 MiB) of UTF-8`, "store large data elsewhere (a file, an artifact store) and put its path or URL in the key-value store");
  }
  return value;
}
