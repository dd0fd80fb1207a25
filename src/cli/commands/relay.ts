import { dataDir } from "../../config/paths";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";

export default defineCwCommand({
  name: "relay",
  description:
    "Run a relay: nodes behind NAT keep an outbound WebSocket to it, and through it clients reach them (`cw nodes`, `cw attach node:id`), share a key-value store, and log in with plain ssh (`ssh <node>@relay -p 2222`). Listens on loopback unless told otherwise: put a TLS proxy in front for the internet. The admin token is CW_AUTH_TOKEN, or one made and printed on first start (only its hash is kept).",
  examples: ["cw relay", "CW_AUTH_TOKEN=... cw relay --listen 0.0.0.0:8080 --ssh-listen 0.0.0.0:2222 --base-url https://relay.example.com --data-dir /data/relay", "cw relay --ssh-listen off", "CW_DATABASE_URL=postgres://cw:secret@db:5432/cw cw relay --listen 0.0.0.0:8080"],
  args: {
    listen: { type: "string", description: "HTTP and WebSocket address (host:port)", default: "127.0.0.1:8080", valueHint: "addr" },
    "ssh-listen": { type: "string", description: "SSH gateway address, or off", default: "127.0.0.1:2222", valueHint: "addr" },
    "base-url": { type: "string", description: "The URL nodes and clients use to reach this relay (shown in setup instructions; CW_BASE_URL)", valueHint: "url" },
    "data-dir": { type: "string", description: "Where the relay keeps its database and SSH host key (default: $CODEWIRE_HOME/relay)", valueHint: "dir" },
    database: { type: "string", description: "PostgreSQL URL (postgres://user:pass@host/db) for the relay's state, shared by replicas; default SQLite in the data dir (CW_DATABASE_URL)", valueHint: "url" },
    "replica-url": { type: "string", description: "With several replicas (CW_REPLICA_SECRET): the URL the other replicas reach this one at, e.g. http://<pod IP>:8080 (CW_REPLICA_URL)", valueHint: "url" },
    "node-access": {
      type: "string",
      description: "Whether a node's token reaches other nodes: none (the default: only grants, `cw grant`) or all (every node trusts every other; CW_NODE_ACCESS)",
      valueHint: "none|all",
    },
    "auth-mode": { type: "string", description: "How clients and nodes authenticate: token (bearer tokens; the only mode this build has; CW_AUTH_MODE)", valueHint: "mode" },
  },
  async run({ args }) {
    const mode = (args["auth-mode"] as string | undefined) || process.env.CW_AUTH_MODE || "token";
    if (mode !== "token") throw new UsageError(`auth mode ${JSON.stringify(mode)} is not available: this build authenticates with tokens only`, "leave --auth-mode out, or pass --auth-mode token; OIDC sign-in is not built");
    const access = (args["node-access"] as string | undefined) || process.env.CW_NODE_ACCESS || "none";
    if (access !== "none" && access !== "all") throw new UsageError(`--node-access takes none or all; got ${JSON.stringify(access)}`);
    const { runRelay } = await import("../../relay/relay");
    const { RelayStartError } = await import("../../relay/errors");
    const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
    try {
      await runRelay({
        dataDir: (args["data-dir"] as string | undefined) ?? `${dataDir()}/relay`,
        listen: args.listen as string,
        sshListen: args["ssh-listen"] as string,
        baseUrl: (args["base-url"] as string | undefined) ?? (process.env.CW_BASE_URL || undefined),
        authToken: process.env.CW_AUTH_TOKEN || undefined,
        databaseUrl: (args.database as string | undefined) || process.env.CW_DATABASE_URL || undefined,
        replicaSecret: process.env.CW_REPLICA_SECRET || undefined,
        replicaUrl: (args["replica-url"] as string | undefined) || process.env.CW_REPLICA_URL || undefined,
        nodeAccess: access,
        log,
      });
    } catch (e) {
      // A setting that does not fit is a usage error (exit 2); either way the hint is shown.
      if (e instanceof RelayStartError && e.usage) throw new UsageError(e.message, e.hint);
      throw e;
    }
  },
});
