/**
 * The SSH gateway facing strangers, with the compiled binary: connections that never log in are
 * capped (in all and per address) and closed after a short grace, so /healthz and real logins
 * keep working; an sftp (or any) subsystem gets a clean refusal; a login shell ends when its
 * SSH connection drops without a goodbye.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { Client } from "ssh2";
import { CwHome, RelayProcess, waitFor } from "./helpers";

const GRACE_MS = 3000;
const PER_ADDRESS = 8;

let relay: RelayProcess;
let node: CwHome;

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start(0, { ssh: true, env: { CW_SSH_LOGIN_GRACE_MS: String(GRACE_MS) } });
  const { token } = (await relay.api("POST", "/api/v1/nodes", { name: "dev-1" })).json;
  node = new CwHome();
  writeFileSync(node.path("relay.toml"), `url = "${relay.url}"\nnode = "dev-1"\ntoken = "${token}"\n`, { mode: 0o600 });
  await node.ok(["start"]);
  await waitFor(async () => ((await relay.api("GET", "/api/v1/nodes")).json.nodes as { connected: boolean }[]).some((n) => n.connected), "dev-1 to connect", 15_000);
});
afterAll(async () => {
  await node?.cleanup();
  await relay?.cleanup();
});

/** An ssh2 client logged in with the admin token as its password. */
async function login(user = "dev-1"): Promise<{ client: Client; socket: Socket }> {
  const socket = connect(relay.sshPort, "127.0.0.1");
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve()).once("error", reject);
    client.connect({ sock: socket, username: user, password: relay.adminToken!, readyTimeout: 10_000 });
  });
  return { client, socket };
}

describe("connections that never log in", () => {
  test("past the per-address cap they are closed at once, the rest after the grace; /healthz and logins go on", async () => {
    const sockets: Socket[] = [];
    const closed = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const s = connect(relay.sshPort, "127.0.0.1");
      s.on("error", () => {});
      // Read what the relay sends (its banner), so that its close is seen; send nothing back.
      s.on("data", () => {});
      s.on("close", () => closed.add(i));
      sockets.push(s);
    }
    try {
      // Never a banner from us: the relay closes all but PER_ADDRESS at once...
      await waitFor(() => closed.size >= 40 - PER_ADDRESS || undefined, "connections past the cap to be closed", GRACE_MS - 500);
      expect(closed.size).toBe(40 - PER_ADDRESS);
      expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
      // ...and those after the grace.
      await waitFor(() => closed.size === 40 || undefined, "silent connections to be closed after the grace", GRACE_MS + 5000).catch((e) => {
        throw new Error(`${(e as Error).message} (${closed.size} closed)\n${relay.stderr}`);
      });
      expect(relay.stderr).toContain("no login within 3s");
      const { client } = await login();
      client.end();
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe("subsystems and dropped connections", () => {
  test("the real sftp client is refused cleanly; the relay logs no error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-askpass-"));
    try {
      const askpass = join(dir, "askpass");
      writeFileSync(askpass, `#!/bin/sh\necho '${relay.adminToken}'\n`, { mode: 0o700 });
      const env: Record<string, string> = { ...(process.env as Record<string, string>), SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" };
      delete env.SSH_AUTH_SOCK;
      const opts = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"];
      const p = Bun.spawn(["sftp", ...opts, "-P", String(relay.sshPort), "dev-1@127.0.0.1"], { env, stdin: new TextEncoder().encode("ls\nbye\n"), stdout: "pipe", stderr: "pipe" });
      const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
      const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      clearTimeout(timer);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/subsystem request failed|Connection closed/);
      await waitFor(() => relay.stderr.includes("refused the sftp subsystem"), "the relay to log the refusal").catch((e) => {
        throw new Error(`${(e as Error).message}\n${stderr}\n${relay.stderr}`);
      });
      expect(relay.stderr).not.toMatch(/TypeError|unexpected error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an sftp subsystem request is refused cleanly, and the relay goes on", async () => {
    const { client } = await login();
    try {
      const err = await new Promise<Error | undefined>((resolve) => client.sftp((e) => resolve(e ?? undefined)));
      expect(err).toBeDefined();
      // The same connection still serves a command.
      const out = await new Promise<string>((resolve, reject) =>
        client.exec("echo still-$((20+1))", (e, ch) => {
          if (e) return reject(e);
          let text = "";
          ch.on("data", (b: Buffer) => (text += b.toString())).on("close", () => resolve(text));
        }),
      );
      expect(out).toContain("still-21");
    } finally {
      client.end();
    }
    expect(relay.stderr).not.toMatch(/TypeError|uncaught|unhandled/i);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });

  test("a login shell ends when its SSH connection drops without closing its channel", async () => {
    const before = new Set((await node.list()).map((s) => s.id));
    const { client, socket } = await login();
    // A refused subsystem first, as a multiplexing client's extra channel: its channel is still
    // open when the connection drops, and must not stop the shell's from being cleaned up.
    await new Promise<void>((resolve) => client.sftp(() => resolve()));
    await new Promise<void>((resolve, reject) => client.shell({ term: "xterm", cols: 80, rows: 24 }, (e) => (e ? reject(e) : resolve())));
    const shell = await waitFor(async () => (await node.list()).find((s) => !before.has(s.id) && s.tags.includes("ssh") && s.status === "running"), "the login shell to start");
    // Gone with no channel close and no disconnect message, as when a multiplexed link dies.
    socket.destroy();
    await node.waitStatus(shell.id, "killed", 15_000);
  });
});
