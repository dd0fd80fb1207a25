/**
 * `bun scripts/bench/mcp.ts`: MCP tools/call round trip for codewire_list_sessions, through the
 * SDK's own client talking to `dist/cw mcp-server` over stdio — what an agent pays per call.
 * Runs in a temp CODEWIRE_HOME with BENCH_MCP_SESSIONS sessions (default 10) listed each call;
 * BENCH_MCP_CALLS (default 1000) timed calls after 100 warm-up calls. Prints p50/p99/mean.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** Nearest-rank quantile (p in [0, 1]). */
function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil(p * s.length))) - 1]!;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const intEnv = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
};
const CALLS = intEnv("BENCH_MCP_CALLS", 1000);
const SESSIONS = intEnv("BENCH_MCP_SESSIONS", 10);
const WARMUP = 100;

const cw = resolve(import.meta.dir, "../../dist/cw");
if (!existsSync(cw)) {
  console.error(`${cw} is missing: run \`bun run build\` first`);
  process.exit(1);
}
const home = mkdtempSync(join(tmpdir(), "cw-bench-mcp-"));
const env = { ...(process.env as Record<string, string>), CODEWIRE_HOME: home };
const client = new Client({ name: "cw-bench", version: "1.0.0" });

async function cleanup() {
  await client.close().catch(() => {});
  Bun.spawnSync([cw, "stop"], { env, stdout: "ignore", stderr: "ignore" });
  rmSync(home, { recursive: true, force: true });
}
process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

try {
  await client.connect(new StdioClientTransport({ command: cw, args: ["mcp-server"], env, cwd: home, stderr: "inherit" }));
  for (let i = 0; i < SESSIONS; i++) {
    const r = await client.callTool({ name: "codewire_launch_session", arguments: { command: ["sleep", "600"], name: `bench-${i}`, tags: ["bench"] } });
    if (r.isError) throw new Error(`launch failed: ${JSON.stringify(r.content)}`);
  }
  const once = async () => {
    const t0 = performance.now();
    const r = await client.callTool({ name: "codewire_list_sessions", arguments: {} });
    const ms = performance.now() - t0;
    if (r.isError || (r.structuredContent as { total: number }).total !== SESSIONS) throw new Error(`unexpected result: ${JSON.stringify(r).slice(0, 300)}`);
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) samples.push(await once());
  const f = (ms: number) => `${ms.toFixed(3)} ms`;
  console.log(`MCP tools/call codewire_list_sessions (${SESSIONS} sessions, ${CALLS} calls, stdio, SDK client)`);
  console.log(`  p50  ${f(quantile(samples, 0.5))}`);
  console.log(`  p99  ${f(quantile(samples, 0.99))}`);
  console.log(`  mean ${f(mean(samples))}   max ${f(Math.max(...samples))}`);
  await client.callTool({ name: "codewire_kill_session", arguments: { tags: ["bench"] } });
} finally {
  await cleanup();
}
