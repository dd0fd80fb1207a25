/** Where a node keeps its state. Tests and users override the root with CODEWIRE_HOME. */
import { homedir } from "node:os";
import { join } from "node:path";

export function dataDir(): string {
  return process.env.CODEWIRE_HOME || join(homedir(), ".codewire");
}

export function pathsFor(root = dataDir()) {
  return {
    root,
    socket: join(root, "codewire.sock"),
    pid: join(root, "codewire.pid"),
    nodeLog: join(root, "node.log"),
    config: join(root, "config.toml"),
    sessions: join(root, "sessions.json"),
    nextId: join(root, "next_id"),
    messages: join(root, "messages.db"),
    kv: join(root, "kv.db"),
    sessionsDir: join(root, "sessions"),
    sessionDir: (id: number) => join(root, "sessions", String(id)),
  };
}
export type Paths = ReturnType<typeof pathsFor>;
