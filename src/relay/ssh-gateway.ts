/**
 * The relay's SSH gateway: plain `ssh` reaches a node's sessions through the relay.
 *
 *   ssh dev-1@relay -p 2222            a login shell on dev-1, as a new session (tag "ssh")
 *   ssh dev-1@relay -p 2222 'make'     runs `sh -c make` there as a session, exits with its code
 *   ssh 'dev-1:3'@relay -p 2222        attaches to session 3 (an id or a name) on dev-1
 *
 * A session the gateway started is killed when the SSH client goes away first (a plain ssh login
 * leaves nothing behind); an attached session is only detached from and keeps running.
 *
 * Who may log in: a password that is a relay token (the admin token or any node's), or a public
 * key listed in `authorized_keys` next to the host key (OpenSSH format; options are not
 * supported, and a line with options is ignored). Every authenticated caller may reach every
 * node, as the HTTP API allows any token to reach any node.
 *
 * Each SSH connection talks to its node as an ordinary client through `NodeHub.dial`. Nothing a
 * connection does may take the relay down: every handler catches and logs its own failures.
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { type AuthContext, type AuthenticationType, type Connection, type ParsedKey, type ServerChannel, Server, utils } from "ssh2";
import type { NodeConnection } from "../client/connection";
import { NodeError, NodeUnavailableError } from "../client/errors";
import type { Reply, ReplyOf, SessionRef } from "../protocol";
import { NODE_NAME_RE, SESSION_NAME_RE } from "../protocol/constants";
import { writeFileAtomic } from "../sys/files";
import type { RelayAuth } from "./auth";
import type { NodeHub } from "./hub";

export interface SshGatewayOptions {
  address: { hostname: string; port: number };
  /** The ed25519 host key (OpenSSH format); made on first start, mode 0600. */
  hostKeyPath: string;
  auth: RelayAuth;
  hub: NodeHub;
  log: (msg: string) => void;
  /** Public keys that may log in; default `authorized_keys` next to the host key. */
  authorizedKeysPath?: string;
}

/** How long a one-shot request to a node (launch, kill, status) may take. */
const REQUEST_TIMEOUT_MS = 15_000;
/** A client that has not logged in by then is disconnected (as sshd's LoginGraceTime). */
const LOGIN_GRACE_MS = 60_000;
/** A client that answers no keepalive for this long is gone: its login shell is killed. */
const KEEPALIVE_MS = 30_000;
const KEEPALIVE_COUNT = 3;
/** Failed login attempts (keys offered included, as sshd's MaxAuthTries) before disconnecting. */
const MAX_AUTH_TRIES = 10;
/** Environment a client may pass (ssh's SendEnv): the locale, as sshd's usual AcceptEnv. */
const ACCEPT_ENV = /^(LANG|LC_[A-Z_]+)$/;
/** A detached attachment whose node does not confirm is closed after this. */
const DETACH_GRACE_MS = 2_000;
const DEFAULT_TERM = "xterm-256color";
const LOGIN_SHELL = ["sh", "-c", 'exec "${SHELL:-/bin/sh}" -l'];
const EOT = new Uint8Array([4]);
const METHODS: AuthenticationType[] = ["publickey", "password"];

export async function startSshGateway(opts: SshGatewayOptions): Promise<{ close(): void; port: number }> {
  const { log } = opts;
  const hostKey = loadOrCreateHostKey(opts.hostKeyPath, log);
  const keys = new AuthorizedKeys(opts.authorizedKeysPath ?? join(dirname(opts.hostKeyPath), "authorized_keys"), log);
  const clients = new Set<Connection>();

  const server = new Server({ hostKeys: [hostKey], keepaliveInterval: KEEPALIVE_MS, keepaliveCountMax: KEEPALIVE_COUNT }, (client, info) => {
    clients.add(client);
    const peer = `${info.ip}:${info.port}`;
    try {
      handleClient(client, peer, { ...opts, keys });
    } catch (e) {
      log(`ssh ${peer}: ${describe(e)}`);
      client.end();
    }
    client.on("close", () => clients.delete(client));
  });
  // A listener that fails later (it should not) is logged, never thrown at the process.
  const onError = (e: unknown) => log(`ssh gateway: ${describe(e)}`);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.address.port, opts.address.hostname, () => {
      server.off("error", reject);
      server.on("error", onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close() {
      server.close();
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}

// Host key and authorized keys

function loadOrCreateHostKey(path: string, log: (msg: string) => void): string {
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (text === undefined) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    text = utils.generateKeyPairSync("ed25519").private;
    writeFileAtomic(path, text, 0o600);
    log(`SSH host key created at ${path}`);
  }
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error || (Array.isArray(parsed) && !parsed.length)) {
    throw new Error(`${path} is not a usable SSH host key (${parsed instanceof Error ? parsed.message : "empty"}); move it away and a new one is made`);
  }
  return text;
}

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;

/** authorized_keys, re-read whenever it changes (no restart to add a key). Absent: no keys. */
class AuthorizedKeys {
  private cached?: { stamp: string; keys: ParsedKey[] };

  constructor(
    private readonly path: string,
    private readonly log: (msg: string) => void,
  ) {}

  find(blob: Buffer): ParsedKey | undefined {
    return this.load().find((k) => k.getPublicSSH().equals(blob));
  }

  private load(): ParsedKey[] {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      this.cached = undefined;
      return [];
    }
    if (this.cached?.stamp === stamp) return this.cached.keys;
    const keys: ParsedKey[] = [];
    let text = "";
    try {
      text = readFileSync(this.path, "utf8");
    } catch (e) {
      this.log(`ssh: cannot read ${this.path}: ${describe(e)}`);
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const words = line.split(/\s+/);
      if (!KEY_TYPE.test(words[0]!)) {
        this.log(`ssh: ${this.path} line ${i + 1}: ignored (not "<type> <base64> [comment]"; key options are not supported)`);
        return;
      }
      const k = utils.parseKey(line);
      const key = Array.isArray(k) ? k[0] : k;
      if (!key || key instanceof Error) {
        this.log(`ssh: ${this.path} line ${i + 1}: ignored (${key instanceof Error ? key.message : "no key"})`);
        return;
      }
      keys.push(key);
    });
    this.cached = { stamp, keys };
    return keys;
  }
}

// Connections

type Target = { node: string; session?: SessionRef };

/** `<node>` or `<node>:<session>`; an error message for anything else. */
export function parseSshUser(user: string): Target | { error: string } {
  const i = user.indexOf(":");
  const node = i < 0 ? user : user.slice(0, i);
  const ref = i < 0 ? undefined : user.slice(i + 1);
  const usage = "log in as <node> for a new shell or <node>:<session> to attach (ssh dev-1@relay, ssh 'dev-1:3'@relay)";
  if (!NODE_NAME_RE.test(node)) return { error: `${JSON.stringify(user)} does not name a node: ${usage}` };
  if (ref === undefined) return { node };
  if (/^\d+$/.test(ref) && Number(ref) > 0) return { node, session: Number(ref) };
  if (SESSION_NAME_RE.test(ref)) return { node, session: ref };
  return { error: `${JSON.stringify(ref)} is not a session id or name: ${usage}` };
}

interface Deps extends SshGatewayOptions {
  keys: AuthorizedKeys;
}

function handleClient(client: Connection, peer: string, deps: Deps) {
  const { log } = deps;
  let user = "";
  const grace = setTimeout(() => {
    log(`ssh ${peer}: no login within ${LOGIN_GRACE_MS / 1000}s; disconnecting`);
    client.end();
  }, LOGIN_GRACE_MS);
  client.on("close", () => clearTimeout(grace));
  client.on("error", (e) => log(`ssh ${peer}: ${describe(e)}`));
  let failures = 0;
  client.on("authentication", (ctx) => {
    let outcome: ReturnType<typeof authenticate> = "rejected";
    try {
      outcome = authenticate(ctx, deps, peer, (who) => {
        user = ctx.username;
        log(`ssh ${peer}: ${JSON.stringify(user)} logged in (${who})`);
      });
    } catch (e) {
      log(`ssh ${peer}: authentication failed: ${describe(e)}`);
    }
    if (outcome !== "rejected") return ctx.accept();
    ctx.reject(METHODS);
    if (ctx.method !== "none" && ++failures >= MAX_AUTH_TRIES) {
      log(`ssh ${peer}: too many failed logins; disconnecting`);
      client.end();
    }
  });
  client.on("ready", () => {
    clearTimeout(grace);
    client.on("session", (acceptSession) => {
      try {
        handleSession(acceptSession(), user, peer, deps);
      } catch (e) {
        log(`ssh ${peer}: ${describe(e)}`);
      }
    });
  });
}

/** Judges one login attempt; `accepted` is told who got in. A signature-less key offer is a "query". */
function authenticate(ctx: AuthContext, deps: Deps, peer: string, accepted: (who: string) => void): "accepted" | "query" | "rejected" {
  switch (ctx.method) {
    case "password": {
      const who = deps.auth.identify(`Bearer ${ctx.password}`);
      if (!who) {
        deps.log(`ssh ${peer}: wrong password for ${JSON.stringify(ctx.username)}`);
        return "rejected";
      }
      accepted(who.kind === "admin" ? "password: admin token" : `password: token of node ${who.name}`);
      return "accepted";
    }
    case "publickey": {
      const key = deps.keys.find(ctx.key.data);
      if (!key) return "rejected";
      // Without a signature the client only asks whether this key would do.
      if (!ctx.signature || !ctx.blob) return "query";
      if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
        deps.log(`ssh ${peer}: bad signature from key ${key.type} ${key.comment || ""}`.trimEnd());
        return "rejected";
      }
      accepted(`publickey ${key.type}${key.comment ? ` ${key.comment}` : ""}`);
      return "accepted";
    }
    default:
      return "rejected";
  }
}

interface Term {
  term: string;
  cols: number;
  rows: number;
  /** The client asked for a PTY (a terminal is at the other end). */
  pty: boolean;
  /** What the client passed with SendEnv and we accept (ACCEPT_ENV). */
  env: Record<string, string>;
}

function clampSize(cols: number, rows: number): { cols: number; rows: number } {
  return {
    cols: Number.isInteger(cols) && cols > 0 ? Math.min(cols, 2000) : 80,
    rows: Number.isInteger(rows) && rows > 0 ? Math.min(rows, 1000) : 24,
  };
}

function handleSession(session: import("ssh2").Session, user: string, peer: string, deps: Deps) {
  const term: Term = { term: DEFAULT_TERM, cols: 80, rows: 24, pty: false, env: {} };
  let io: ChannelIO | undefined;
  session.on("env", (accept, reject, info) => {
    if (!ACCEPT_ENV.test(info.key) || io) return reject?.();
    term.env[info.key] = info.val;
    accept?.();
  });
  session.on("pty", (accept, _reject, info) => {
    Object.assign(term, { term: info.term || DEFAULT_TERM, pty: true }, clampSize(info.cols, info.rows));
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    Object.assign(term, clampSize(info.cols, info.rows));
    io?.onResize?.(term.cols, term.rows);
    accept?.();
  });
  const start = (channel: ServerChannel, command: string | undefined) => {
    io = new ChannelIO(channel, term.pty);
    const what = command === undefined ? "shell" : "exec";
    const run = async () => {
      const t = parseSshUser(user);
      if ("error" in t) return io!.fail(t.error);
      if (t.session !== undefined) {
        if (command !== undefined) return io!.fail(`${user} attaches to a session and runs no command`, `run commands as ssh ${t.node}@<relay> '<command>'`);
        return attachExisting(io!, t.node, t.session, term, deps, peer);
      }
      return runNew(io!, t.node, command === undefined ? LOGIN_SHELL : ["sh", "-c", command], term, deps, peer, what);
    };
    run().catch((e) => {
      deps.log(`ssh ${peer}: ${user} ${what}: ${describe(e)}`);
      io?.fail(...userMessage(e, user.split(":")[0]!));
    });
  };
  session.on("shell", (accept, reject) => {
    if (io) return reject?.();
    start(accept(), undefined);
  });
  session.on("exec", (accept, reject, info) => {
    if (io) return reject?.();
    start(accept(), info.command);
  });
}

/** What a user sees for a failure: a message and a hint. */
function userMessage(e: unknown, node: string): [string, string?] {
  if (e instanceof NodeUnavailableError) return [`node ${node} is not connected to the relay; \`cw nodes\` shows which are online`];
  if (e instanceof NodeError) return [e.message, e.hint];
  return [`the relay failed: ${(e as Error)?.message ?? String(e)}`];
}

/** One SSH channel (shell or exec): output with backpressure, input and resize hooks, the end. */
class ChannelIO {
  closed = false;
  private ended = false;
  private closeHooks: (() => void)[] = [];
  /** Input that came before anyone took it (the client types while the session starts). */
  private held: Uint8Array[] = [];
  private eof = false;
  private onData?: (bytes: Uint8Array) => void;
  private onEof?: () => void;
  onResize?: (cols: number, rows: number) => void;

  constructor(
    private readonly ch: ServerChannel,
    private readonly pty: boolean,
  ) {
    ch.on("data", (b: Buffer) => (this.onData ? this.onData(b) : this.held.push(new Uint8Array(b))));
    ch.on("end", () => {
      this.eof = true;
      this.onEof?.();
    });
    ch.on("error", () => {});
    ch.stderr.on("error", () => {});
    ch.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      for (const h of this.closeHooks.splice(0)) h();
    });
  }

  /** Where the client's input goes from now on (and what it sent before). */
  input(onData: (bytes: Uint8Array) => void, onEof?: () => void) {
    this.onData = onData;
    this.onEof = onEof;
    for (const b of this.held.splice(0)) onData(b);
    if (this.eof) onEof?.();
  }

  /** Called once when the client closes the channel or goes away (or at once if it has). */
  onClose(h: () => void) {
    if (this.closed) h();
    else this.closeHooks.push(h);
  }

  /** True once this side ended it, or the client went away. */
  get done(): boolean {
    return this.closed || this.ended;
  }

  /** Writes output; resolves when the channel can take more. */
  write(bytes: Uint8Array): Promise<void> | void {
    if (this.done || !bytes.length) return;
    if (this.ch.write(bytes)) return;
    return new Promise((resolve) => {
      const go = () => {
        this.ch.off("drain", go);
        this.closeHooks = this.closeHooks.filter((h) => h !== go);
        resolve();
      };
      this.ch.on("drain", go);
      this.onClose(go);
    });
  }

  fail(message: string, hint?: string) {
    if (this.done) return;
    const nl = this.pty ? "\r\n" : "\n";
    this.ch.stderr.write(`error: ${message}${nl}${hint ? `hint: ${hint}${nl}` : ""}`);
    this.exit(1);
  }

  exit(code: number) {
    if (this.done) return;
    this.ended = true;
    this.ch.exit(code);
    this.ch.end();
  }
}

/** Sends one request on its own connection and returns the reply. */
async function ask(hub: NodeHub, node: string, req: { type: string; [k: string]: unknown }, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Reply> {
  const conn = hub.dial(node);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    conn.send(req);
    const reply = await Promise.race([
      conn.nextReply(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NodeError("timeout", `node ${node} did not answer ${req.type} in time`, "try again; see the node's node.log")), timeoutMs);
      }),
    ]);
    if (!reply) throw new NodeError("unavailable", `the connection to node ${node} ended`, "is it stopping? `cw nodes` shows which are online");
    return reply;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function expect<T extends Reply["type"]>(r: Reply, type: T): ReplyOf<T> {
  if (r.type !== type) throw new NodeError("internal", `the node answered ${r.type} where ${type} was expected`);
  return r as ReplyOf<T>;
}

/** The next frame of `conn` that is not data: each data frame goes to `data` first. */
async function pump(conn: NodeConnection, data: (bytes: Uint8Array) => Promise<void> | void): Promise<Reply | null> {
  for (;;) {
    const f = await conn.next();
    if (!f) return null;
    if (f.kind === "data") {
      await data(f.bytes);
      continue;
    }
    const m = f.message as Reply;
    if (m.type === "Error") throw new NodeError(m.code, m.message, m.hint);
    return m;
  }
}

function exitCodeOf(s: { status: string; exit_code: number | null }): number {
  if (s.exit_code !== null) return s.exit_code;
  return s.status === "completed" ? 0 : 1;
}

/**
 * A new session (login shell or command). Its output comes from the session's log followed live
 * (`Logs` with follow, from the first byte): a short command may well have finished before an
 * `Attach` reaches the node, and the log still holds every byte it wrote, with no screen repaint
 * in front. Keys and window size go through an `Attach` (whose own output is dropped).
 */
async function runNew(io: ChannelIO, node: string, command: string[], term: Term, deps: Deps, peer: string, what: string) {
  const { hub, log } = deps;
  const launched = expect(
    await ask(hub, node, { type: "Launch", command, env_from: "node", env: { ...term.env, TERM: term.term }, tags: ["ssh"], cols: term.cols, rows: term.rows }),
    "Launched",
  );
  const id = launched.session.id;
  log(`ssh ${peer}: ${what} is session ${id} on ${node}`);

  const output = hub.dial(node);
  const input = hub.dial(node);
  let finished = false;
  // The client went first: end the session (a hang-up, then SIGTERM, then SIGKILL on the node).
  io.onClose(() => {
    if (finished) return;
    finished = true;
    input.close();
    void ask(hub, node, { type: "Kill", id })
      .then(() => log(`ssh ${peer}: client left; session ${id} on ${node} killed`))
      .catch((e) => {
        if (!(e instanceof NodeError && e.code === "not_running")) log(`ssh ${peer}: killing session ${id} on ${node}: ${describe(e)}`);
      })
      .finally(() => output.close());
  });

  let attached = false;
  const early: Uint8Array[] = [];
  const toSession = (b: Uint8Array) => (attached ? input.sendData(b) : early.push(b));
  // Without a terminal at the other end, the client's end of input is the program's too (^D).
  io.input(toSession, term.pty ? undefined : () => toSession(EOT));
  io.onResize = (cols, rows) => attached && input.sendControl({ type: "Resize", cols, rows });
  input.send({ type: "Attach", id, history: false, cols: term.cols, rows: term.rows });
  void (async () => {
    try {
      const r = await input.nextReply();
      if (r?.type !== "Attached") return;
      attached = true;
      for (const b of early.splice(0)) input.sendData(b);
      input.sendControl({ type: "Resize", cols: term.cols, rows: term.rows });
      while (await input.next()); // its output duplicates the log's: drop it
    } catch {
      // Already ended (not_running): no input to deliver.
    } finally {
      attached = false;
      early.length = 0;
      input.close();
    }
  })();

  try {
    output.send({ type: "Logs", id, follow: true });
    expect((await output.nextReply()) ?? lost(node), "LogData");
    const end = await pump(output, (b) => io.write(b));
    if (finished) return;
    finished = true;
    if (!end) return io.fail(`the connection to node ${node} was lost; session ${id} may still be running there`);
    const s = expect(end, "StreamEnd").session;
    if (!s) return io.fail(`session ${id} on ${node} ended without a status`);
    log(`ssh ${peer}: session ${id} on ${node} ended (${s.status}${s.exit_code !== null ? ` ${s.exit_code}` : ""})`);
    io.exit(exitCodeOf(s));
  } finally {
    finished = true;
    output.close();
    input.close();
  }
}

function lost(node: string): never {
  throw new NodeError("unavailable", `the connection to node ${node} was lost`, "`cw nodes` shows which are online");
}

/** `ssh node:session@relay`: attach; the client leaving only detaches. */
async function attachExisting(io: ChannelIO, node: string, ref: SessionRef, term: Term, deps: Deps, peer: string) {
  const { hub, log } = deps;
  let size = { cols: term.cols, rows: term.rows };
  if (!term.pty) {
    // No terminal: keep the session's own size rather than force 80x24 on it.
    const s = expect(await ask(hub, node, { type: "GetStatus", id: ref, recent_lines: 0 }), "SessionStatus").session;
    size = { cols: s.cols, rows: s.rows };
  }
  const conn = hub.dial(node);
  let detaching = false;
  try {
    conn.send({ type: "Attach", id: ref, history: true, ...size });
    const first = expect((await conn.nextReply()) ?? lost(node), "Attached");
    const id = first.session.id;
    log(`ssh ${peer}: attached to session ${id} on ${node}`);
    io.input((b) => conn.sendData(b));
    io.onResize = (cols, rows) => conn.sendControl({ type: "Resize", cols, rows });
    io.onClose(() => {
      detaching = true;
      conn.sendControl({ type: "Detach" });
      setTimeout(() => conn.close(), DETACH_GRACE_MS).unref?.();
    });
    if (term.pty && (term.cols !== size.cols || term.rows !== size.rows)) conn.sendControl({ type: "Resize", cols: term.cols, rows: term.rows });
    const end = await pump(conn, (b) => io.write(b));
    if (!end) {
      if (!detaching) io.fail(`the connection to node ${node} was lost`);
      return;
    }
    const m = expect(end, "AttachEnded");
    log(`ssh ${peer}: ${detaching ? "client left; detached from" : "attachment ended for"} session ${id} on ${node} (${m.reason})`);
    if (m.reason === "detached") io.exit(0);
    else if (m.reason === "node_stopping") io.fail(`node ${node} is stopping; session ${id} ended with it`);
    else io.exit(exitCodeOf(m.session));
  } finally {
    conn.close();
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
