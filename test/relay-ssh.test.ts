/**
 * The relay's SSH gateway end to end: the compiled `cw relay` with its gateway on an ephemeral
 * port, a node connected to it, and the real OpenSSH client: exec, key and password logins, an
 * interactive login shell in tmux, attaching to an existing session, and the errors a user sees.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BaseAgent, Client, type ParsedKey, utils } from "ssh2";
import { capture, CW, CwHome, RelayProcess, type RunResult, shq, Tmux, waitFor } from "./helpers";

/** A node registered with the relay and connected to it (its own CODEWIRE_HOME). */
async function startNode(relay: RelayProcess, name: string): Promise<CwHome> {
  const { token } = (await relay.api("POST", "/api/v1/nodes", { name })).json;
  const node = new CwHome();
  writeFileSync(node.path("relay.toml"), `url = "${relay.url}"\nnode = "${name}"\ntoken = "${token}"\n`, { mode: 0o600 });
  await node.ok(["start"]);
  await waitFor(async () => {
    const { nodes } = (await relay.api("GET", "/api/v1/nodes")).json;
    return (nodes as { name: string; connected: boolean }[]).some((n) => n.name === name && n.connected);
  }, `node ${name} to connect to the relay`, 15_000);
  return node;
}

function sshKey(dir: string, name: string): string {
  const path = join(dir, name);
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
  return path;
}

/** Options that keep ssh to itself: no user config, no agent, no known_hosts, no prompts. */
function sshOptions(port: number, extra: string[] = []): string[] {
  return ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes", "-p", String(port), ...extra];
}

async function ssh(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<RunResult> {
  const env = { ...(process.env as Record<string, string>), ...opts.env };
  delete env.SSH_AUTH_SOCK;
  const p = Bun.spawn(["ssh", ...args], {
    env,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

let relay: RelayProcess;
let node: CwHome;
let keys: string;
let key: string;
let tmux: Tmux | undefined;

const withKey = (k: string, extra: string[] = []) => [...sshOptions(relay.sshPort, ["-o", "BatchMode=yes", "-o", "PreferredAuthentications=publickey", "-i", k, ...extra])];

beforeAll(async () => {
  relay = new RelayProcess();
  keys = mkdtempSync(join(tmpdir(), "cw-ssh-keys-"));
  key = sshKey(keys, "allowed");
  await relay.start(0, { ssh: true });
  writeFileSync(join(relay.dataDir, "authorized_keys"), `# the test's key\n${readFileSync(`${key}.pub`, "utf8")}`);
  node = await startNode(relay, "dev-1");
});
afterAll(async () => {
  await tmux?.kill();
  await node?.cleanup();
  await relay?.cleanup();
  rmSync(keys, { recursive: true, force: true });
});
afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
});

async function sshSessions(): Promise<Array<Record<string, any>>> {
  return (await node.list()).filter((s) => s.tags.includes("ssh"));
}

describe("logging in", () => {
  test("the host key is ed25519, private (0600), and kept across restarts", async () => {
    const own = new RelayProcess();
    try {
      await own.start(0, { ssh: true });
      const path = join(own.dataDir, "ssh_host_ed25519_key");
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const first = readFileSync(path, "utf8");
      expect(first).toContain("OPENSSH PRIVATE KEY");
      const pub = Bun.spawnSync(["ssh-keygen", "-y", "-f", path]);
      expect(pub.stdout.toString()).toStartWith("ssh-ed25519 ");
      await own.stop();
      await own.start(0, { ssh: true });
      expect(readFileSync(path, "utf8")).toBe(first);
      expect(own.history.match(/SSH host key created/g)?.length).toBe(1);
    } finally {
      await own.cleanup();
    }
  });

  test("a command runs as a session on the node: its output, its exit code", async () => {
    const r = await ssh([...withKey(key), "dev-1@127.0.0.1", "echo out-$((20+1)); echo err-line >&2; exit 3"]);
    expect(r.stdout).toContain("out-21");
    expect(r.stdout).toContain("err-line"); // a session has one output stream
    expect(r.stdout).not.toContain("\r"); // no terminal: no CR before each LF
    expect(r.code).toBe(3);
    const s = (await sshSessions()).find((x) => x.command.at(-1)?.includes("out-$((20+1))"));
    expect(s).toMatchObject({ status: "completed", exit_code: 3, command: ["sh", "-c", "echo out-$((20+1)); echo err-line >&2; exit 3"] });
    await waitFor(() => /"dev-1" logged in \(publickey ssh-ed25519 allowed\)/.test(relay.stderr), "the relay to log the login");
  });

  test("the locale the client sends (SendEnv LANG LC_*) is the session's; nothing else is", async () => {
    const r = await ssh([...withKey(key, ["-o", "SendEnv=LC_CW_TEST CW_NOT_PASSED"]), "dev-1@127.0.0.1", 'echo "[$LC_CW_TEST|$CW_NOT_PASSED|$TERM]"'], {
      env: { LC_CW_TEST: "passed", CW_NOT_PASSED: "leaked" },
    });
    // No -t: no terminal, so no TERM either (as sshd does); with -t the client's TERM is the session's.
    expect(r.stdout).toContain("[passed||]");
  });

  test("input reaches the command, and the end of input ends it", async () => {
    const r = await ssh([...withKey(key), "dev-1@127.0.0.1", "while read l; do echo got-$l; done; echo done"], { stdin: "one\ntwo\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("got-one");
    expect(r.stdout).toContain("got-two");
    expect(r.stdout).toContain("done");
  });

  test("without -t a command has pipes: input comes back once, byte for byte (ssh relay cat)", async () => {
    const data = "line one\r\nline two\n\u0004 not an end\n\u0003 nor an interrupt\ncafé € ÿ\ttab\nno newline at the end";
    const r = await ssh([...withKey(key), "dev-1@127.0.0.1", "[ -t 0 ] || [ -t 1 ] || cat"], { stdin: data });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(data);
  });

  test("a key not in authorized_keys is refused, and nothing runs", async () => {
    const before = (await sshSessions()).length;
    const other = sshKey(keys, "stranger");
    const r = await ssh([...withKey(other), "dev-1@127.0.0.1", "echo should-not-run"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("Permission denied");
    expect(r.stdout).not.toContain("should-not-run");
    expect((await sshSessions()).length).toBe(before);
  });

  test("an authorized key is accepted only with a signature made by its private key", async () => {
    const parse = (path: string) => utils.parseKey(readFileSync(path, "utf8")) as ParsedKey;
    const allowedPub = utils.parseKey(readFileSync(`${key}.pub`, "utf8")) as ParsedKey;
    /** An agent that offers the authorized public key and signs with `signer`. */
    class Agent extends BaseAgent<ParsedKey> {
      constructor(private readonly signer: ParsedKey) {
        super();
      }
      getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void) {
        cb(undefined, [allowedPub]);
      }
      sign(_pub: ParsedKey, data: Buffer, ...rest: unknown[]) {
        const cb = rest.at(-1) as (err: Error | undefined, sig?: Buffer) => void;
        cb(undefined, this.signer.sign(data));
      }
    }
    const tryLogin = (signer: ParsedKey) =>
      new Promise<string>((resolve) => {
        const c = new Client();
        c.on("ready", () => {
          c.end();
          resolve("accepted");
        });
        c.on("error", (e) => resolve(`refused: ${e.message}`));
        c.connect({ host: "127.0.0.1", port: relay.sshPort, username: "dev-1", agent: new Agent(signer) as BaseAgent, readyTimeout: 10_000 });
      });
    expect(await tryLogin(parse(key))).toBe("accepted");
    expect(await tryLogin(parse(sshKey(keys, "forger")))).toMatch(/^refused: All configured authentication methods failed/);
    // The relay logs the refusal on its own time; the client may hear of it first.
    await waitFor(() => relay.stderr.includes("bad signature from key ssh-ed25519 allowed"), "the relay to log the bad signature");
  });

  test("a relay token works as the password; a wrong one is refused and never logged", async () => {
    const askpass = join(keys, "askpass");
    const login = async (password: string) => {
      writeFileSync(askpass, `#!/bin/sh\necho ${shq(password)}\n`, { mode: 0o700 });
      return ssh(
        [...sshOptions(relay.sshPort, ["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"]), "dev-1@127.0.0.1", "echo pw-$((40+2))"],
        { env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" } },
      );
    };
    const admin = await login(relay.adminToken!);
    expect(admin.stdout).toContain("pw-42");
    expect(admin.code).toBe(0);

    const wrong = await login("not-a-token");
    expect(wrong.code).toBe(255);
    expect(wrong.stderr).toContain("Permission denied");

    const nodeToken = /token = "([^"]+)"/.exec(readFileSync(node.path("relay.toml"), "utf8"))![1]!;
    const asNode = await login(nodeToken);
    expect(asNode.stdout).toContain("pw-42");
    await waitFor(() => relay.stderr.includes("token of node dev-1"), "the relay to log the node token's login");
    expect(relay.stderr).not.toContain(relay.adminToken!);
    expect(relay.stderr).not.toContain(nodeToken);
    expect(relay.stderr).not.toContain("not-a-token");
  });
});

describe("interactive", () => {
  test("ssh node@relay is a login shell on the node; exiting it ends the session", async () => {
    const before = new Set((await sshSessions()).map((s) => s.id));
    tmux = new Tmux();
    await tmux.start(`ssh -tt ${withKey(key).map(shq).join(" ")} dev-1@127.0.0.1`, {}, 100, 30);
    const live = await waitFor(async () => (await sshSessions()).find((s) => s.status === "running" && !before.has(s.id)), "the login shell's session");
    expect(live.command).toEqual(["sh", "-c", 'exec "${SHELL:-/bin/sh}" -l']);
    expect(live.cols).toBe(100);
    expect(live.rows).toBe(30);
    await tmux.waitScreen((s) => s.trim() !== "", "the shell's prompt");
    await tmux.keys("echo ssh-$((6*7))", "Enter");
    await tmux.waitScreen((s) => s.includes("ssh-42"), "the shell to answer");

    await tmux.cmd("resize-window", "-t", "t", "-x", "90", "-y", "20");
    await waitFor(async () => {
      const s = await node.session(live.id);
      return s.cols === 90 && s.rows === 20;
    }, "the session to follow the window size");

    await tmux.keys("exit 7", "Enter");
    await tmux.waitScreen((s) => s.includes("[exit 7]"), "ssh to exit with the shell's status");
    const s = await node.session(live.id);
    expect(s.status).toBe("completed");
    expect(s.exit_code).toBe(7);
  });

  test("a dropped connection kills the login shell: nothing is left behind", async () => {
    const before = new Set((await sshSessions()).map((s) => s.id));
    tmux = new Tmux();
    await tmux.start(`ssh -tt ${withKey(key).map(shq).join(" ")} dev-1@127.0.0.1`, {}, 100, 30);
    const live = await waitFor(async () => (await sshSessions()).find((s) => s.status === "running" && !before.has(s.id)), "the login shell's session");
    await tmux.waitScreen((s) => s.trim() !== "", "the shell's prompt");
    await tmux.kill();
    tmux = undefined;
    await waitFor(async () => (await node.session(live.id)).status !== "running", "the session to be killed");
    expect((await node.session(live.id)).status).toBe("killed");
  });

  test("ssh node:session@relay attaches to a running session; leaving only detaches", async () => {
    const id = await node.launch(["sh", "-c", "echo started; while read l; do echo got-$l; done"], ["--name", "echoer"]);
    tmux = new Tmux();
    await tmux.start(`ssh -tt ${withKey(key).map(shq).join(" ")} ${shq(`dev-1:${id}`)}@127.0.0.1`, {}, 100, 30);
    await tmux.waitScreen((s) => s.includes("started"), "the session's screen");
    await waitFor(async () => (await node.session(id)).attached_count === 1, "the attachment");
    await tmux.type("hello");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("got-hello"), "the session to answer");
    await tmux.kill();
    tmux = undefined;
    await waitFor(async () => (await node.session(id)).attached_count === 0, "the detach");
    expect((await node.session(id)).status).toBe("running");

    // By name too, without a terminal: it shows the screen; the client going away detaches.
    const p = Bun.spawn(["ssh", ...withKey(key), "dev-1:echoer@127.0.0.1"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    try {
      const out = capture(p.stdout);
      await waitFor(() => out.text.includes("got-hello"), "the screen through a plain ssh");
      await waitFor(async () => (await node.session(id)).attached_count === 1, "the second attachment");
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
    await waitFor(async () => (await node.session(id)).attached_count === 0, "the second detach");
    expect((await node.session(id)).status).toBe("running");
    await node.ok(["kill", String(id)]);
  });

  test("in ssh node:session@relay, Ctrl+B d detaches as in cw attach; the keys never reach the program", async () => {
    const id = await node.launch(["sh", "-c", "echo started; while read l; do echo got-$l; done"], ["--name", "detachable"]);
    tmux = new Tmux();
    await tmux.start(`ssh -tt ${withKey(key).map(shq).join(" ")} ${shq(`dev-1:${id}`)}@127.0.0.1`, {}, 100, 30);
    await tmux.waitScreen((s) => s.includes("started"), "the session's screen");
    await waitFor(async () => (await node.session(id)).attached_count === 1, "the attachment");
    await tmux.keys("C-b", "d");
    const screen = await tmux.waitScreen((s) => s.includes("[exit "), "ssh to end");
    expect(screen).toContain(`detached from session ${id} on dev-1`);
    expect(screen).toContain("[exit 0]");
    await waitFor(async () => (await node.session(id)).attached_count === 0, "the detach");
    expect((await node.session(id)).status).toBe("running");
    // Nothing of the chord was typed into the program.
    const log = await node.ok(["logs", String(id), "--plain"]);
    expect(log).not.toContain("got-");
    await node.ok(["kill", String(id)]);
  });
});

describe("errors a user sees", () => {
  test("a node that is registered but not connected", async () => {
    expect((await relay.api("POST", "/api/v1/nodes", { name: "dev-2" })).status).toBe(201);
    const r = await ssh([...withKey(key), "dev-2@127.0.0.1", "true"]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(255);
    expect(r.stderr).toContain("node dev-2 is not connected to the relay; `cw nodes` shows which are online");
  });

  test("a node nobody registered", async () => {
    const r = await ssh([...withKey(key), "nowhere@127.0.0.1", "true"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("node nowhere is not connected to the relay");
  });

  test("an unknown session, an ended one, a bad user name", async () => {
    const unknown = await ssh([...withKey(key), "dev-1:999@127.0.0.1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no session 999');

    const id = await node.launch(["true"]);
    await node.waitStatus(id, "completed");
    const ended = await ssh([...withKey(key), `dev-1:${id}@127.0.0.1`]);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`session ${id} has ended`);

    const bad = await ssh([...withKey(key), "dev.1@127.0.0.1", "true"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("does not name a node");

    const cmd = await ssh([...withKey(key), `dev-1:${id}@127.0.0.1`, "ls"]);
    expect(cmd.code).toBe(1);
    expect(cmd.stderr).toContain("runs no command");
  });

  test("the relay keeps serving after all of that", async () => {
    const r = await ssh([...withKey(key), "dev-1@127.0.0.1", "echo still-here"]);
    expect(r.stdout).toContain("still-here");
    expect(r.code).toBe(0);
  });
});
