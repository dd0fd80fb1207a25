/**
 * Whether a session's program can start, checked before a session exists: a PTY backend that
 * forks first and execs later cannot report a failed exec (bun-pty's child crashed with Bun's
 * crash dump as the session's whole log), and a missing, non-executable or directory program
 * must fail the launch with its reason, as a shell would say it.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

type Found = "ok" | "directory" | "not_executable" | "missing";

function check(path: string): Found {
  let st;
  try {
    st = statSync(path);
  } catch {
    return "missing";
  }
  if (st.isDirectory()) return "directory";
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return "not_executable";
  }
  return st.isFile() ? "ok" : "not_executable";
}

/**
 * Why `program` cannot be executed from `cwd` with `PATH` (execvp's rules: a name with a slash
 * is a path, others are looked up in PATH), or undefined when it can.
 */
export function programProblem(program: string, cwd: string, path: string | undefined): string | undefined {
  if (program === "") return "the command is empty";
  const say = (found: Found, where: string) =>
    found === "directory" ? `${where} is a directory` : found === "not_executable" ? `permission denied: ${where} is not executable` : `no such file: ${where}`;
  if (program.includes("/")) {
    const full = isAbsolute(program) ? program : join(cwd, program);
    const found = check(full);
    return found === "ok" ? undefined : say(found, program);
  }
  let seen: Found = "missing";
  let seenAt = "";
  for (const dir of (path ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    const full = join(dir ? (isAbsolute(dir) ? dir : join(cwd, dir)) : cwd, program);
    const found = check(full);
    if (found === "ok") return undefined;
    // A directory of that name is passed over as execvp does; a file without x is remembered.
    if (found === "not_executable" && seen === "missing") [seen, seenAt] = [found, full];
  }
  return seen === "not_executable" ? say(seen, seenAt) : "not found on the PATH";
}
