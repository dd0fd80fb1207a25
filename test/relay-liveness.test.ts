/**
 * A node that hangs (SIGSTOP) behind the relay, with the compiled binary: the relay pings its
 * nodes, marks a silent one offline within seconds, and a command already waiting on it ends
 * with a clear error instead of hanging for minutes. When it runs again it comes back by itself.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CW, CwHome, RelayProcess, Tmux, waitFor } from "./helpers";

const PING_MS = 500;

let relay: RelayProcess;
let dev1: CwHome;
let dev2: CwHome;
let stopped: number | undefined;

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start(0, { env: { CW_RELAY_NODE_PING_MS: String(PING_MS) } });
  dev1 = new CwHome();
  dev2 = new CwHome();
  await dev1.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-1"]);
  await dev2.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-2"]);
});
afterAll(async () => {
  if (stopped) process.kill(stopped, "SIGCONT");
  await dev1?.cleanup();
  await dev2?.cleanup();
  await relay?.cleanup();
});

async function connected(name: string): Promise<boolean | undefined> {
  const r = await dev1.run(["nodes", "--json"]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { name: string; connected: boolean }[]).find((n) => n.name === name)?.connected;
}

test("a stopped node is offline within seconds; a command waiting on it ends with the reason; it comes back", async () => {
  await waitFor(async () => (await connected("dev-2")) === true || undefined, "dev-2 online", 15_000);
  expect((await dev1.ok(["list", "dev-2", "--json"])).trim()).toBe("[]");
  const pid = dev2.nodePid()!;
  process.kill(pid, "SIGSTOP");
  stopped = pid;
  const t0 = Date.now();
  // Asked right away, before the relay can know: the relay opens the stream, nobody answers.
  const waiting = await dev1.run(["list", "dev-2"], { timeoutMs: 25_000 });
  expect(waiting.code).toBe(1);
  if (!waiting.stderr.includes("stopped answering")) console.log(relay.stderr);
  expect(waiting.stderr).toContain("stopped answering the relay");
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(await connected("dev-2")).toBe(false);
  expect(relay.stderr).toContain("node dev-2 did not answer");
  // Asked again: refused at once, as for any offline node.
  const offline = await dev1.run(["list", "dev-2"], { timeoutMs: 10_000 });
  expect(offline.code).toBe(1);
  expect(offline.stderr).toContain("not connected");

  process.kill(pid, "SIGCONT");
  stopped = undefined;
  await waitFor(async () => (await connected("dev-2")) === true || undefined, "dev-2 back online", 20_000);
  expect((await dev1.ok(["list", "dev-2", "--json"])).trim()).toBe("[]");
});

test("attached through the relay to a session whose node stops: the same words and exit 0 as locally", async () => {
  const dev3 = new CwHome();
  const tmux = new Tmux();
  try {
    await dev3.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-3"]);
    const id = await dev3.launch(["bash", "--norc", "--noprofile"], ["--name", "stopping"]);
    await tmux.start(`${CW} attach dev-3:stopping`, dev1.env);
    await waitFor(async () => (await dev3.session(id)).attached_count === 1, "the attach through the relay");
    expect(await dev3.ok(["stop"])).toContain("node stopped");
    const screen = await tmux.waitScreen((s) => /\[exit \d+\]/.test(s), "attach to end");
    expect(screen).toContain(`session ${id} (stopping) killed (the node stopped)`);
    expect(screen).toContain("[exit 0]");
  } finally {
    await tmux.kill();
    await dev3.cleanup();
  }
});

test("a probe speaking HTTP/1.0 without a Host header (HAProxy's default httpchk) gets its answer, not a 500", async () => {
  const port = Number(new URL(relay.url).port);
  for (const path of ["/healthz", "/readyz"]) {
    const reply = await new Promise<string>((resolve, reject) => {
      let got = "";
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (s) => void s.write(`GET ${path} HTTP/1.0\r\n\r\n`),
          data: (_s, d) => void (got += d.toString()),
          close: () => resolve(got),
          error: (_s, e) => reject(e),
        },
      }).catch(reject);
    });
    expect(reply).toStartWith("HTTP/1.1 200");
  }
});
