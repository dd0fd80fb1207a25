/**
 * sessions.json and next_id: written atomically (temp file + rename) so a crash leaves either
 * the old or the new version, never half of one. A file that does not parse is moved aside
 * (sessions.json.corrupt-<time>) and the node starts without it rather than refusing to start.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { z } from "zod";
import type { Paths } from "../config/paths";
import { SessionStatus } from "../protocol";
import { writeFileAtomic } from "../sys/files";
import type { SessionRecord } from "./session";

const Record = z.object({
  id: z.number().int().positive(),
  name: z.string().optional(),
  command: z.array(z.string()),
  working_dir: z.string(),
  tags: z.array(z.string()).default([]),
  status: SessionStatus,
  exit_code: z.number().int().nullable().default(null),
  pid: z.number().int().nullable().default(null),
  created_at: z.string(),
  completed_at: z.string().nullable().default(null),
  output_bytes: z.number().default(0),
  last_output_at: z.string().nullable().default(null),
  cols: z.number().int().default(80),
  rows: z.number().int().default(24),
  terminal: z.boolean().default(true),
});
const File = z.object({ version: z.literal(1), sessions: z.array(Record) });


export interface Loaded {
  records: SessionRecord[];
  /** Set when sessions.json was unreadable and moved aside. */
  corruptMovedTo?: string;
}

export function loadRecords(paths: Paths): Loaded {
  if (!existsSync(paths.sessions)) return { records: [] };
  try {
    const parsed = File.parse(JSON.parse(readFileSync(paths.sessions, "utf8")));
    return { records: parsed.sessions };
  } catch {
    const aside = `${paths.sessions}.corrupt-${Date.now()}`;
    renameSync(paths.sessions, aside);
    return { records: [], corruptMovedTo: aside };
  }
}

export function saveRecords(paths: Paths, records: SessionRecord[]): void {
  writeFileAtomic(paths.sessions, `${JSON.stringify({ version: 1, sessions: records }, null, 1)}\n`);
}

/**
 * The next id: never reused, also across restarts and a lost sessions.json, so it is the
 * largest of the counter file, every known record and every session directory, plus one.
 */
export function nextIdFloor(paths: Paths, records: SessionRecord[]): number {
  let max = 0;
  try {
    max = Number(readFileSync(paths.nextId, "utf8").trim()) - 1 || 0;
  } catch {
    /* no counter yet */
  }
  for (const r of records) max = Math.max(max, r.id);
  mkdirSync(paths.sessionsDir, { recursive: true, mode: 0o700 });
  for (const d of readdirSync(paths.sessionsDir)) {
    const n = Number(d);
    if (Number.isInteger(n)) max = Math.max(max, n);
  }
  return max + 1;
}

export function saveNextId(paths: Paths, next: number): void {
  writeFileAtomic(paths.nextId, `${next}\n`);
}
