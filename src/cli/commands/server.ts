import { pathsFor, dataDir } from "../../config/paths";
import { normalizeServerUrl, readServers, SERVER_NAME_RE, ConfigFileError, writeServers } from "../../config/servers";
import { defineCwCommand } from "../define";
import { EXIT, UsageError } from "../errors";
import { dim, err, out, printJson, table } from "../output";

export default defineCwCommand({
  name: "server",
  description:
    "Save remote nodes to reach with `cw --server <name> <command>`. A node accepts remote clients when its config.toml sets `listen` (or CODEWIRE_LISTEN); its token is in ~/.codewire/token on that machine. Saved servers live in servers.toml (mode 0600, it holds the tokens).",
  usage: "cw server add <name> <url> --token <token> | cw server remove <name> | cw server list",
  examples: ["cw server add my-gpu ws://gpu-host:9100 --token $(ssh gpu-host cat .codewire/token)", "cw --server my-gpu list", "cw --server my-gpu attach 1", "cw server list --json", "cw server remove my-gpu"],
  args: {
    action: { type: "positional", description: "add, remove or list" },
    name: { type: "positional", required: false, description: "The server's name (letters, digits, . _ -)" },
    url: { type: "positional", required: false, description: "For add: ws://host:port or wss://host/path" },
    token: { type: "string", description: "For add: the node's token (or set CODEWIRE_TOKEN)" },
    json: { type: "boolean", description: "For list: print JSON (tokens are never printed)" },
  },
  async run({ args }) {
    const file = pathsFor(dataDir()).servers;
    const load = () => {
      try {
        return readServers(file);
      } catch (e) {
        if (e instanceof ConfigFileError) throw new UsageError(e.message, `fix or delete ${file}`);
        throw e;
      }
    };
    const name = args.name as string | undefined;
    switch (args.action) {
      case "add": {
        if (!name || !args.url) throw new UsageError("cw server add needs a name and a URL", "for example: cw server add my-gpu ws://gpu-host:9100 --token <token>");
        if (!SERVER_NAME_RE.test(name)) throw new UsageError(`${JSON.stringify(name)} is not a valid server name`, "use up to 64 letters, digits, dots, underscores and hyphens");
        let url: string;
        try {
          url = normalizeServerUrl(String(args.url));
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const token = (args.token as string | undefined) || process.env.CODEWIRE_TOKEN || undefined;
        if (!token) err(dim("note: no token given; the node will refuse this client until you add one with --token\n"));
        const { mkdirSync } = require("node:fs") as typeof import("node:fs");
        mkdirSync(dataDir(), { recursive: true, mode: 0o700 });
        const servers = load();
        const replaced = name in servers;
        servers[name] = { url, ...(token ? { token } : {}) };
        writeServers(file, servers);
        out(`${replaced ? "updated" : "saved"} ${name} → ${url}\n`);
        return;
      }
      case "remove": {
        if (!name) throw new UsageError("cw server remove needs a name", "`cw server list` shows saved servers");
        const servers = load();
        if (!(name in servers)) {
          err(`no saved server named ${name}\n`);
          return EXIT.notFound;
        }
        delete servers[name];
        writeServers(file, servers);
        out(`removed ${name}\n`);
        return;
      }
      case "list": {
        const rows = Object.entries(load()).map(([n, s]) => ({ name: n, url: s.url, has_token: Boolean(s.token) }));
        if (args.json) return printJson(rows);
        if (rows.length === 0) {
          out(dim("no saved servers — add one with: cw server add <name> <url> --token <token>\n"));
          return;
        }
        out(`${table(["NAME", "URL", "TOKEN"], rows.map((r) => [r.name, r.url, r.has_token ? "saved" : "none"]))}\n`);
        return;
      }
      default:
        throw new UsageError(`unknown server action ${JSON.stringify(args.action ?? "")}`, "use add, remove or list");
    }
  },
});
