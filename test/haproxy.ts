/**
 * A private HAProxy (Debian's package; .ci/run installs it) in front of relay replicas for
 * tests: round robin over HTTP (WebSockets pass through as tunnels), a health check of
 * GET /readyz on each replica every 300 ms, and a stats page whose CSV says which it takes for
 * up. A connection to a replica that refuses is retried on another (redispatch), as a
 * production configuration would.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capture, waitFor } from "./helpers";

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export class HaProxy {
  readonly dir = mkdtempSync(join(tmpdir(), "cw-haproxy-"));
  port = 0;
  statsPort = 0;
  private proc?: ReturnType<typeof Bun.spawn>;
  private err?: { readonly text: string };

  /** @param backends name → port of each replica */
  constructor(private readonly backends: Record<string, number>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.statsPort = await freePort();
    const servers = Object.entries(this.backends).map(([name, port]) => `  server ${name} 127.0.0.1:${port} check inter 300 fall 2 rise 2`);
    const cfg = [
      "global",
      "  maxconn 4000",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 60s",
      "  timeout server 60s",
      // A WebSocket (a node's, a client's) is a tunnel once upgraded: it may idle between pings.
      "  timeout tunnel 1h",
      "  retries 3",
      "  option redispatch",
      "frontend relay",
      `  bind 127.0.0.1:${this.port}`,
      "  default_backend replicas",
      "backend replicas",
      "  balance roundrobin",
      // HAProxy's default check: HTTP/1.0 without a Host header, which the relay answers.
      "  option httpchk GET /readyz",
      "  http-check expect status 200",
      ...servers,
      "listen stats",
      `  bind 127.0.0.1:${this.statsPort}`,
      "  stats enable",
      "  stats uri /stats",
      "",
    ].join("\n");
    writeFileSync(join(this.dir, "haproxy.cfg"), cfg);
    // -db: stay in the foreground, so the test owns the process and kills it.
    const proc = Bun.spawn(["haproxy", "-db", "-f", join(this.dir, "haproxy.cfg")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    this.proc = proc;
    this.err = capture(proc.stderr as ReadableStream<Uint8Array>);
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}: ${this.err?.text}`);
      return (await fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`).catch(() => undefined))?.ok;
    }, "haproxy to listen");
  }

  /** Each replica's state as HAProxy's health checks see it: UP, DOWN, or a transition such as "UP 1/2". */
  async states(): Promise<Record<string, string>> {
    const csv = await (await fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`)).text();
    const [head, ...rows] = csv.replace(/^# /, "").trim().split("\n");
    const cols = head!.split(",");
    const px = cols.indexOf("pxname");
    const sv = cols.indexOf("svname");
    const st = cols.indexOf("status");
    const out: Record<string, string> = {};
    for (const r of rows) {
      const f = r.split(",");
      if (f[px] === "replicas" && f[sv] !== "BACKEND") out[f[sv]!] = f[st]!;
    }
    return out;
  }

  /** Waits until HAProxy takes `name` for `state` (UP or DOWN). */
  async waitState(name: string, state: "UP" | "DOWN", timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => (await this.states())[name] === state, `haproxy to see ${name} ${state}`, timeoutMs, 100);
  }

  get log(): string {
    return this.err?.text ?? "";
  }

  async stop(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
