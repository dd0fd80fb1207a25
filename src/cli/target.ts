/** Turning what the user typed into a session reference (an id or a name). */
import { SESSION_NAME_RE } from "../protocol/constants";
import type { SessionRef } from "../protocol";
import { UsageError } from "./errors";

/** Addressing by node name (`node:id`, `cw list <node>`) needs the relay, which this build does not have yet. */
export function remoteUnsupported(address: string): never {
  throw new UsageError(
    `remote address ${JSON.stringify(address)}: reaching nodes by name needs a relay, which this build does not have yet`,
    "reach the node directly instead: cw --server <name|ws://host:port> <command> (see cw server --help)",
  );
}

export function sessionRef(input: string | undefined, what = "session"): SessionRef {
  if (input === undefined || input === "") throw new UsageError(`which ${what}? give its id or name`, "`cw list` shows sessions");
  if (input.includes(":")) remoteUnsupported(input);
  if (/^\d+$/.test(input)) return Number(input);
  if (!SESSION_NAME_RE.test(input)) {
    throw new UsageError(`${JSON.stringify(input)} is neither a session id nor a valid name`, "names are 1-32 letters, digits and hyphens; `cw list` shows sessions");
  }
  return input;
}

export function positiveNumber(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v).replace(/s$/, "");
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, got ${JSON.stringify(v)}`);
  return n;
}
