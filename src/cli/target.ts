/** Turning what the user typed into a session reference (an id or a name). */
import { useRelayNode } from "../client/remote-target";
import { dataDir } from "../config/paths";
import { NODE_NAME_RE, SESSION_NAME_RE } from "../protocol/constants";
import type { SessionRef } from "../protocol";
import { UsageError } from "./errors";

let named: string | undefined;

/** Sends this command to `node` through the relay (`cw list dev-1`, `cw launch --node dev-1`). */
export function onNode(node: string): void {
  if (!NODE_NAME_RE.test(node)) throw new UsageError(`${JSON.stringify(node)} is not a node name`, "`cw nodes` lists the nodes of your relay");
  useRelayNode(node, dataDir());
  named = node;
}

/** The node this command was sent to by name (so that what it prints addresses it: `dev-1:3`). */
export function namedNode(): string | undefined {
  return named;
}

export function sessionRef(input: string | undefined, what = "session"): SessionRef {
  if (input === undefined || input === "") throw new UsageError(`which ${what}? give its id or name`, "`cw list` shows sessions");
  const colon = input.indexOf(":");
  if (colon >= 0) {
    // node:session — the session lives on another node, reached through the relay.
    onNode(input.slice(0, colon));
    return sessionRef(input.slice(colon + 1), what);
  }
  if (/^\d+$/.test(input)) {
    if (!Number.isSafeInteger(Number(input))) throw new UsageError(`${what === "sender" ? "--from" : `<${what}>`}: no session has an id as large as ${input}`, "`cw list` shows sessions");
    return Number(input);
  }
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
