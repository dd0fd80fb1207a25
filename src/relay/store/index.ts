/**
 * The relay's store: PostgreSQL when given a database URL (`cw relay --database`, or
 * CW_DATABASE_URL), else SQLite in the data directory. Migrations are applied before this returns.
 */
import { RelayStartError } from "../errors";
import type { RelayStore, RelayStoreOptions } from "./interface";
import { SqliteRelayStore } from "./sqlite";

export * from "./interface";

export async function openRelayStore(opts: RelayStoreOptions & { dataDir: string; databaseUrl?: string; log?: (msg: string) => void }): Promise<RelayStore> {
  const { dataDir, databaseUrl, log, ...rest } = opts;
  if (!databaseUrl) return new SqliteRelayStore(dataDir, rest);
  if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new RelayStartError(`${redactUrl(databaseUrl)} is not a PostgreSQL URL`, "give postgres://user:password@host:5432/dbname, or leave --database (and CW_DATABASE_URL) out for SQLite in the data directory", true);
  }
  const { PostgresRelayStore } = await import("./postgres");
  return PostgresRelayStore.open(databaseUrl, { ...rest, ...(log ? { log } : {}) });
}

/** A database URL with its password hidden, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(a database URL that does not parse)";
  }
}
