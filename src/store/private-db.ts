/**
 * A SQLite database readable by this user only.
 *
 * What the node and the relay keep (messages, peers, keys and values, tokens) is the user's, so
 * each database file is 0600 like the rest of the data directory. The file is made (or, made by
 * an older cw with the umask's mode, put right) before SQLite opens it: SQLite gives its -wal and
 * -shm files the database's mode when it creates them, so they are private too.
 */
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, openSync } from "node:fs";

const PRIVATE_FILE_MODE = 0o600;

/** Creates `path` if missing, with mode 0600, or sets an existing file's mode to 0600. */
export function makePrivateFile(path: string): void {
  closeSync(openSync(path, "a", PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

export function openPrivateDatabase(path: string): Database {
  makePrivateFile(path);
  // Left by a node that stopped without closing (a crash): SQLite keeps them as they are.
  for (const side of [`${path}-wal`, `${path}-shm`]) if (existsSync(side)) chmodSync(side, PRIVATE_FILE_MODE);
  return new Database(path, { create: true, strict: true });
}
