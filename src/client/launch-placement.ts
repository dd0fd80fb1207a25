/**
 * Where a new session runs and with what environment. A local launch sends the caller's own
 * directory and environment, as a shell would pass them on. A launch on a remote node
 * (`--server`) cannot: this machine's directory and PATH mean nothing there, so the session gets
 * the node's environment plus what was asked for, and a directory on the node's side.
 */
import { withoutMultiplexer } from "../config/multiplexer-env";
import { remoteTarget } from "./remote-target";

export interface LaunchPlacement {
  working_dir?: string;
  env: Record<string, string>;
  env_from: "caller" | "node";
}

export function launchPlacement(dir: string | undefined, extraEnv: Record<string, string>): LaunchPlacement {
  if (remoteTarget()) {
    const env: Record<string, string> = { ...extraEnv };
    // The terminal is this machine's, so its type travels (not a multiplexer's: see multiplexer-env).
    if (process.env.TERM && !env.TERM) env.TERM = withoutMultiplexer({ TERM: process.env.TERM }).TERM!;
    return { ...(dir ? { working_dir: dir } : {}), env, env_from: "node" };
  }
  let env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env = withoutMultiplexer(env);
  // A session started from inside another is not that session: do not pass on its identity.
  delete env.CW_SESSION_ID;
  delete env.CW_SESSION_NAME;
  Object.assign(env, extraEnv);
  const { resolve } = require("node:path") as typeof import("node:path");
  return { working_dir: resolve(dir ?? process.cwd()), env, env_from: "caller" };
}
