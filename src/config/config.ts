/** config.toml, with environment variables taking precedence. All settings are optional. */
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { z } from "zod";

const MiB = 1024 * 1024;

/** Where sessions' terminals come from: Bun's own (default; bun-pty where it is missing) or bun-pty (see node/pty/pty.ts). */
export const PTY_BACKENDS = ["bun-pty", "bun"] as const;
export type PtyBackend = (typeof PTY_BACKENDS)[number];

/** Whose terminal size a session takes when several clients are attached (tmux's window-size). */
export const WINDOW_SIZES = ["latest", "smallest", "largest"] as const;
export type WindowSize = (typeof WINDOW_SIZES)[number];

const ConfigFile = z.object({
  node: z
    .object({
      name: z.string().optional(),
      listen: z.string().optional(),
      external_url: z.string().optional(),
      relay_url: z.string().optional(),
      pty: z.enum(PTY_BACKENDS).optional(),
    })
    .default({}),
  logs: z
    .object({
      /** Output kept per session, in MiB; older output is rotated away. */
      max_mib: z.number().positive().default(64),
    })
    .default({ max_mib: 64 }),
  attach: z
    .object({
      /** Lines of scrollback painted when attaching. */
      history_lines: z.number().int().min(0).max(100_000).default(1000),
      /** latest: the client that typed last (tmux's default); smallest; largest. */
      window_size: z.enum(WINDOW_SIZES).default("latest"),
    })
    .default({ history_lines: 1000, window_size: "latest" }),
  notify: z
    .object({
      /** Run through the shell when an agent comes to need input or goes idle (node/agents/notify.ts). */
      command: z.string().min(1).optional(),
    })
    .default({}),
});

export interface NodeConfig {
  name: string;
  listen?: string;
  externalUrl?: string;
  relayUrl?: string;
  logMaxBytes: number;
  historyLines: number;
  windowSize: WindowSize;
  pty: PtyBackend;
  /** `[notify] command`: run on every change of an agent to needs-input or idle. */
  notifyCommand?: string;
}

export class ConfigError extends Error {}

export function loadConfig(path: string): NodeConfig {
  let raw: unknown = {};
  try {
    raw = parse(readFileSync(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const c = parsed.data;
  const env = process.env;
  const ptyEnv = env.CODEWIRE_PTY;
  if (ptyEnv && !(PTY_BACKENDS as readonly string[]).includes(ptyEnv)) throw new ConfigError(`CODEWIRE_PTY=${ptyEnv}: use ${PTY_BACKENDS.join(" or ")}`);
  const logMib = env.CODEWIRE_LOG_MAX_MIB ? Number(env.CODEWIRE_LOG_MAX_MIB) : c.logs.max_mib;
  return {
    name: env.CODEWIRE_NODE_NAME || c.node.name || require("node:os").hostname(),
    listen: env.CODEWIRE_LISTEN || c.node.listen,
    externalUrl: env.CODEWIRE_EXTERNAL_URL || c.node.external_url,
    relayUrl: env.CODEWIRE_RELAY_URL || c.node.relay_url,
    logMaxBytes: Math.max(64 * 1024, Math.floor((Number.isFinite(logMib) && logMib > 0 ? logMib : 64) * MiB)),
    historyLines: c.attach.history_lines,
    windowSize: c.attach.window_size,
    pty: (ptyEnv as PtyBackend | undefined) || c.node.pty || "bun",
    notifyCommand: c.notify.command,
  };
}
