/** Where a node keeps its state. Tests and users override the root with CODEWIRE_HOME. */
//
// Plain string joins, not node:path / node:os: every client command resolves these paths, and
// loading those modules costs a compiled binary ~0.8 ms of a few-millisecond `cw list`.

import { builtin } from "../sys/builtin";

/**
 * `dir/name`, without a doubled slash when `dir` ends with one (or is `/`). A loop, not
 * `/\/+$/`: the first regular expression a process uses costs ~0.08 ms to compile, and every
 * command resolves these paths.
 */
function join(dir: string, ...names: string[]): string {
  let end = dir.length;
  while (end > 0 && dir.charCodeAt(end - 1) === 47 /* "/" */) end--;
  return [dir.slice(0, end), ...names].join("/");
}

function home(): string {
  return process.env.HOME || builtin("node:os").homedir();
}

export function dataDir(): string {
  return process.env.CODEWIRE_HOME || join(home(), ".codewire");
}

/** The node's socket (what pathsFor(root).socket names), for short commands that need only it. */
export function socketPath(root = dataDir()): string {
  return join(root, "codewire.sock");
}

export function pathsFor(root = dataDir()) {
  return {
    root,
    socket: socketPath(root),
    pid: join(root, "codewire.pid"),
    nodeLog: join(root, "node.log"),
    config: join(root, "config.toml"),
    /** The secret a remote client shows to this node's WebSocket listener. */
    token: join(root, "token"),
    /** Remote nodes saved with `cw server add`. */
    servers: join(root, "servers.toml"),
    /** This machine's relay: URL, node name and node token (`cw setup`). */
    relay: join(root, "relay.toml"),
    sessions: join(root, "sessions.json"),
    nextId: join(root, "next_id"),
    messages: join(root, "messages.db"),
    kv: join(root, "kv.db"),
    sessionsDir: join(root, "sessions"),
    sessionDir: (id: number) => join(root, "sessions", String(id)),
  };
}
export type Paths = ReturnType<typeof pathsFor>;
