/**
 * sessions.json and next_id: written atomically (temp file + rename) so a crash leaves either
 * the old or the new version, never half of one.
 *
 * Reading is tolerant entry by entry: a bad entry costs at most itself, never its neighbours. A
 * field that is missing or malformed is salvaged (an unknown status becomes "lost"); an entry
 * without a usable id is dropped. Whenever the file is not loaded exactly as written (or does not
 * parse at all), the original is kept aside as sessions.json.corrupt-<time> before the node
 * rewrites it, and notes say what happened, for node.log.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
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
  pid_start: z.string().nullable().default(null),
  orphan_pid: z.number().int().positive().nullable().default(null),
  key: z.string().nullable().default(null),
  survivors: z.array(z.object({ pid: z.number().int().positive(), start: z.string() })).default([]),
});

export interface Loaded {
  records: SessionRecord[];
  /** Every id the file named, dropped entries' too: none of them may be handed out again. */
  ids: number[];
  /** For node.log: what was salvaged or dropped, and where the original is kept. Empty when all is well. */
  notes: string[];
}

export function loadRecords(paths: Paths): Loaded {
  if (!existsSync(paths.sessions)) return { records: [], ids: [], notes: [] };
  const loaded = readRecords(paths);
  if (loaded.notes.length === 0) return loaded;
  const aside = keepAside(paths.sessions);
  loaded.notes.push(aside ? `sessions.json: the original is kept at ${aside}` : "sessions.json: could not keep a copy of the original");
  return loaded;
}

function readRecords(paths: Paths): Loaded {
  let entries: unknown[];
  let version: unknown;
  try {
    const file = JSON.parse(readFileSync(paths.sessions, "utf8")) as { version?: unknown; sessions?: unknown } | null;
    if (!Array.isArray(file?.sessions)) throw new Error("it holds no list of sessions");
    entries = file.sessions;
    version = file.version;
  } catch (e) {
    return { records: [], ids: [], notes: [`sessions.json was unreadable (${(e as Error).message}): the node starts without its sessions`] };
  }
  const loaded: Loaded = { records: [], ids: [], notes: [] };
  if (version !== 1) loaded.notes.push(`sessions.json: version ${shown(version)}, read as version 1`);
  const kept = new Set<number>();
  entries.forEach((raw, i) => {
    const e = readEntry(raw, paths);
    if (e.id !== undefined) loaded.ids.push(e.id);
    const drop = (why: string) => loaded.notes.push(`sessions.json: dropped entry ${i + 1} (${why})`);
    if (e.dropped !== undefined) return drop(e.dropped);
    if (kept.has(e.record.id)) return drop(`session ${e.record.id} again`);
    kept.add(e.record.id);
    loaded.records.push(e.record);
    if (e.salvaged.length) loaded.notes.push(`sessions.json: session ${e.record.id} salvaged: ${e.salvaged.join("; ")}`);
  });
  return loaded;
}

type Entry = { id?: number } & ({ record: SessionRecord; salvaged: string[]; dropped?: undefined } | { dropped: string });

/** One entry of the file, as written, salvaged, or (without a usable id) dropped. */
function readEntry(raw: unknown, paths: Paths): Entry {
  const strict = Record.safeParse(raw);
  if (strict.success) return { id: strict.data.id, record: strict.data, salvaged: [] };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { dropped: "not an object" };
  const fields = raw as { [field: string]: unknown };
  const id = fields.id;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1) return { id: idLike(id), dropped: `no usable id: ${shown(id)}` };
  const bad = [...new Set(strict.error.issues.map((issue) => String(issue.path[0])))];
  const fixed = { ...fields };
  for (const f of bad) fixed[f] = fallback(f, id, paths);
  const salvaged = Record.safeParse(fixed);
  if (!salvaged.success) return { id, dropped: strict.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ") };
  const record: SessionRecord = salvaged.data;
  return { id, record, salvaged: bad.map((f) => `${f} ${shown(fields[f])} -> ${shown(record[f as keyof SessionRecord])}`) };
}

/** What a required field becomes when it is missing or malformed; an optional one takes its default. */
function fallback(field: string, id: number, paths: Paths): unknown {
  switch (field) {
    case "command":
      return [];
    case "working_dir":
      return "";
    case "status":
      // Whatever it was doing, no node can tell any more: neither running nor finished.
      return "lost";
    case "created_at":
      // The session directory was made with the session: the best guess left.
      return modifiedAt(paths.sessionDir(id));
    default:
      return undefined;
  }
}

function modifiedAt(path: string): string {
  try {
    return statSync(path).mtime.toISOString();
  } catch {
    return new Date().toISOString();
  }
}

/** The id a dropped entry seems to have meant ("12", 3.5), so that it is not reused. */
function idLike(v: unknown): number | undefined {
  const n = Math.ceil(Number(v));
  return (typeof v === "number" || typeof v === "string") && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function shown(v: unknown): string {
  if (v === undefined) return "missing";
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** Copies the original aside before the node rewrites it; moves it when there is no room for a copy. */
function keepAside(path: string): string | undefined {
  const aside = `${path}.corrupt-${Date.now()}`;
  try {
    copyFileSync(path, aside);
    return aside;
  } catch {
    try {
      renameSync(path, aside);
      return aside;
    } catch {
      return undefined;
    }
  }
}

export function saveRecords(paths: Paths, records: SessionRecord[]): void {
  writeFileAtomic(paths.sessions, `${JSON.stringify({ version: 1, sessions: records }, null, 1)}\n`);
}

/**
 * The next id: never reused, also across restarts and a lost sessions.json, so it is the
 * largest of the counter file, every id sessions.json named and every session directory, plus one.
 */
export function nextIdFloor(paths: Paths, ids: number[]): number {
  let max = 0;
  try {
    max = Number(readFileSync(paths.nextId, "utf8").trim()) - 1 || 0;
  } catch {
    /* no counter yet */
  }
  for (const id of ids) max = Math.max(max, id);
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
