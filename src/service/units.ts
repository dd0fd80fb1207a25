/**
 * The node as an OS service: where the systemd user unit or launchd agent goes, and its text,
 * filled in from the templates in deploy/ (embedded in the binary as text).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import plistTemplate from "../../deploy/launchd/sh.codewire.node.plist" with { type: "text" };
import unitTemplate from "../../deploy/systemd/codewire-node.service" with { type: "text" };

export type ServiceSystem = "systemd" | "launchd";

export const SYSTEMD_UNIT = "codewire-node.service";
export const LAUNCHD_LABEL = "sh.codewire.node";

export interface ServiceValues {
  /** Absolute path of the cw binary the service runs. */
  cw: string;
  codewireHome: string;
  path: string;
  home: string;
}

export function defaultSystem(): ServiceSystem | undefined {
  if (process.platform === "darwin") return "launchd";
  if (process.platform === "linux") return "systemd";
  return undefined;
}

/** Where the service file goes; honours $XDG_CONFIG_HOME like systemd itself does. */
export function serviceFile(system: ServiceSystem, env = process.env, home = homedir()): string {
  if (system === "launchd") return join(home, "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  return join(env.XDG_CONFIG_HOME || join(home, ".config"), "systemd", "user", SYSTEMD_UNIT);
}

/**
 * A value for a unit file, double-quoted: systemd unquotes \\ and \" inside quotes, expands %
 * specifiers everywhere (%% is a literal %) and, in ExecStart, $VARIABLES ($$ is a literal $).
 */
function systemdQuote(s: string, exec: boolean): string {
  if (/[\n\r]/.test(s)) throw new Error(`a newline cannot go into a systemd unit: ${JSON.stringify(s)}`);
  let out = s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
  if (exec) out = out.replace(/\$/g, "$$$$");
  return `"${out}"`;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`service template uses unknown ${m}`);
    return v;
  });
}

export function systemdUnit(v: ServiceValues): string {
  return fill(unitTemplate, {
    CW: systemdQuote(v.cw, true),
    CODEWIRE_HOME: systemdQuote(`CODEWIRE_HOME=${v.codewireHome}`, false),
    PATH: systemdQuote(`PATH=${v.path}`, false),
  });
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

export function launchdPlist(v: ServiceValues): string {
  return fill(plistTemplate, {
    CW: xml(v.cw),
    CODEWIRE_HOME: xml(v.codewireHome),
    PATH: xml(v.path),
    HOME: xml(v.home),
    LOG: xml(join(v.home, "Library", "Logs", "codewire-node.log")),
  });
}

/**
 * The cw binary a service should run: this one, but through Homebrew's stable opt/ link rather
 * than the versioned Cellar path, which disappears on `brew upgrade`.
 */
export function stableBinaryPath(execPath: string): string {
  const m = /^(.*)\/Cellar\/([^/]+)\/[^/]+\/bin\/([^/]+)$/.exec(execPath);
  return m ? `${m[1]}/opt/${m[2]}/bin/${m[3]}` : execPath;
}
