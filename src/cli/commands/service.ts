/**
 * `cw service install|uninstall|status`: runs the node as a login service — a systemd user unit
 * on Linux, a launchd agent on macOS — so it starts at login, comes back after a crash and
 * outlives the terminal that started it. The files come from deploy/ (see src/service/units.ts).
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { dataDir } from "../../config/paths";
import { writeFileAtomic } from "../../sys/files";
import { isCompiledBinary } from "../../sys/self";
import { defaultSystem, LAUNCHD_LABEL, launchdPlist, type ServiceSystem, type ServiceValues, serviceFile, stableBinaryPath, SYSTEMD_UNIT, systemdUnit } from "../../service/units";
import { defineCwCommand } from "../define";
import { EXIT, ExitWith, UsageError } from "../errors";
import { bold, dim, err, green, out, red, yellow } from "../output";

const ACTIONS = ["install", "uninstall", "status"] as const;

interface Ran {
  ok: boolean;
  out: string;
}

function sh(argv: string[]): Ran {
  try {
    const p = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return { ok: p.exitCode === 0, out: `${p.stdout.toString()}${p.stderr.toString()}`.trim() };
  } catch (e) {
    return { ok: false, out: `${argv[0]} could not be run: ${(e as Error).message}` };
  }
}

/** Runs a step that must work, or stops (exit 1) with what failed and what to do about it. */
function must(argv: string[], hint: string): string {
  const r = sh(argv);
  if (!r.ok) {
    err(`${red("error:", 2)} \`${typed(argv)}\` failed${r.out ? `: ${r.out}` : ""}\nhint: ${hint}\n`);
    throw new ExitWith(EXIT.error);
  }
  return r.out;
}

/** A command as a person would type it (paths with spaces quoted). */
const typed = (argv: string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");

async function runningNode(): Promise<{ pid: number } | undefined> {
  try {
    const { call } = await import("../../client/node-client");
    return await call({ type: "Ping" }, "Pong", { autoStart: false });
  } catch {
    return undefined;
  }
}

function values(): ServiceValues {
  // A unit pointing at the bun executable would start Bun, not the node.
  if (!isCompiledBinary()) {
    throw new UsageError("cw service must be run from an installed cw binary, not from source", "build it with `bun run build` and run dist/cw service …");
  }
  return { cw: stableBinaryPath(process.execPath), codewireHome: resolve(dataDir()), path: process.env.PATH || "/usr/local/bin:/usr/bin:/bin", home: homedir() };
}

function writeAtomically(file: string, text: string) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, text, 0o644);
}

interface Plan {
  file: string;
  text: string;
  /** Commands that load and start the service. */
  activate: string[][];
  /** Commands that stop and unload it. */
  deactivate: string[][];
}

function plan(system: ServiceSystem, v: ServiceValues | undefined, startNow: boolean): Plan {
  const file = serviceFile(system);
  if (system === "systemd") {
    return {
      file,
      text: v ? systemdUnit(v) : "",
      activate: [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", ...(startNow ? ["--now"] : []), SYSTEMD_UNIT]],
      deactivate: [["systemctl", "--user", "disable", "--now", SYSTEMD_UNIT]],
    };
  }
  const domain = `gui/${process.getuid?.() ?? userInfo().uid}`;
  return {
    file,
    text: v ? launchdPlist(v) : "",
    // bootout first so a reinstall picks up the new file; it fails harmlessly when not loaded.
    activate: startNow ? [["launchctl", "bootout", `${domain}/${LAUNCHD_LABEL}`], ["launchctl", "bootstrap", domain, file]] : [["launchctl", "enable", `${domain}/${LAUNCHD_LABEL}`]],
    deactivate: [["launchctl", "bootout", `${domain}/${LAUNCHD_LABEL}`]],
  };
}

const NO_MANAGER_HINT = {
  systemd: "this needs a systemd user session (`systemctl --user status` must work); without one, start the node with `cw start`. The unit file stays in place; remove it with `cw service uninstall --files-only`",
  launchd: "check `launchctl print gui/$(id -u)`; the plist stays in place; remove it with `cw service uninstall --files-only`",
};

async function install(system: ServiceSystem, opts: { dryRun: boolean; filesOnly: boolean; linger: boolean }) {
  const v = values();
  // A node already serving this data directory outside the service would make the service's
  // `cw node` refuse to start; enable it for next time instead of fighting over the socket.
  const existing = opts.dryRun || opts.filesOnly ? undefined : await runningNode();
  const p = plan(system, v, !existing);
  // Without a user name, loginctl acts on the caller; the linger file tells if it already is.
  const lingerCmd = ["loginctl", "enable-linger"];
  const user = process.env.USER || process.env.LOGNAME || userInfo().username;
  const wantLinger = system === "systemd" && opts.linger && !existsSync(`/var/lib/systemd/linger/${user}`);
  if (opts.dryRun) {
    out(`${bold("would write")} ${p.file}:\n\n${p.text}\n`);
    if (!opts.filesOnly) {
      out(`${bold("would run")}:\n${[...p.activate, ...(wantLinger ? [lingerCmd] : [])].map((c) => `  ${typed(c)}`).join("\n")}\n`);
    }
    return;
  }
  writeAtomically(p.file, p.text);
  out(`wrote ${p.file}\n`);
  if (opts.filesOnly) {
    const load = plan(system, v, true).activate.filter((c) => c[1] !== "bootout");
    out(dim(`to load it: ${load.map(typed).join(" && ")}\n`));
    return;
  }
  for (const [i, cmd] of p.activate.entries()) {
    if (system === "launchd" && i === 0 && cmd[1] === "bootout") sh(cmd);
    else must(cmd, NO_MANAGER_HINT[system]);
  }
  if (wantLinger) {
    // Without lingering, systemd stops a user's services when their last login session ends.
    const r = sh(lingerCmd);
    if (r.ok) out("enabled lingering: the node keeps running after you log out and starts at boot\n");
    else out(yellow(`could not enable lingering (${r.out || "loginctl failed"}): the node stops when you log out; ask an admin to run: sudo loginctl enable-linger ${user}\n`));
  }
  if (existing) {
    out(
      yellow(`a node is already running (pid ${existing.pid}) outside the service; the service is enabled and takes over at next login.\n`) +
        dim(`to switch now (this ends that node's sessions): cw stop && ${system === "systemd" ? `systemctl --user start ${SYSTEMD_UNIT}` : `launchctl bootstrap gui/$(id -u) ${typed([p.file])}`}\n`),
    );
  } else {
    out(green(`the node now runs as ${system === "systemd" ? `the user service ${SYSTEMD_UNIT}` : `the launchd agent ${LAUNCHD_LABEL}`}\n`));
  }
}

function uninstall(system: ServiceSystem, opts: { dryRun: boolean; filesOnly: boolean }) {
  const p = plan(system, undefined, false);
  if (opts.dryRun) {
    if (!opts.filesOnly) out(`${bold("would run")}:\n${p.deactivate.map((c) => `  ${typed(c)}`).join("\n")}\n`);
    out(`${bold("would remove")} ${p.file}\n`);
    return;
  }
  if (!existsSync(p.file)) {
    out(`not installed (no ${p.file})\n`);
    return;
  }
  if (!opts.filesOnly) {
    // Stopping the service stops the node, which ends its sessions: say so before doing it.
    out("stopping the service (and the node's sessions)\n");
    for (const cmd of p.deactivate) {
      const r = sh(cmd);
      if (!r.ok) out(yellow(`\`${typed(cmd)}\` failed (${r.out}); removing the file anyway\n`));
    }
  }
  rmSync(p.file, { force: true });
  if (system === "systemd" && !opts.filesOnly) sh(["systemctl", "--user", "daemon-reload"]);
  out(`removed ${p.file}\n`);
}

async function status(system: ServiceSystem) {
  const file = serviceFile(system);
  const installed = existsSync(file);
  out(`${bold("service file")}  ${file} ${installed ? green("(installed)") : dim("(not installed)")}\n`);
  if (system === "systemd") {
    const enabled = sh(["systemctl", "--user", "is-enabled", SYSTEMD_UNIT]);
    const active = sh(["systemctl", "--user", "is-active", SYSTEMD_UNIT]);
    // Both print one word (enabled, disabled, active, inactive…) unless the manager is unreachable.
    const word = (r: Ran) => (/^[a-z-]+$/.test(r.out) ? r.out : `unknown (${r.out || "no answer"})`);
    out(`${bold("systemd")}       ${word(enabled)}, ${word(active)}\n`);
  } else {
    const r = sh(["launchctl", "print", `gui/${process.getuid?.() ?? userInfo().uid}/${LAUNCHD_LABEL}`]);
    const state = /^\s*state = (.+)$/m.exec(r.out)?.[1];
    out(`${bold("launchd")}       ${r.ok ? `loaded, ${state ?? "unknown state"}` : "not loaded"}\n`);
  }
  const node = await runningNode();
  out(`${bold("node")}          ${node ? green(`running (pid ${node.pid})`) : "not running"} in ${resolve(dataDir())}\n`);
}

export default defineCwCommand({
  name: "service",
  description:
    "Run the node as a login service: a systemd user unit on Linux (~/.config/systemd/user), a launchd agent on macOS (~/Library/LaunchAgents). It starts at login, restarts after a crash and outlives the terminal that started it. The service uses this cw binary, this data directory ($CODEWIRE_HOME) and this shell's PATH.",
  usage: "cw service install|uninstall|status [options]",
  examples: ["cw service install", "cw service install --dry-run", "cw service status", "cw service uninstall"],
  args: {
    action: { type: "positional", description: "install, uninstall or status", valueHint: "install|uninstall|status" },
    "dry-run": { type: "boolean", description: "Print the service file and the commands instead of running them" },
    "files-only": { type: "boolean", description: "Only write or remove the service file; run no systemctl/launchctl" },
    linger: { type: "boolean", default: true, description: "systemd: enable lingering so the node outlives your logins and starts at boot (--no-linger to skip)" },
    system: { type: "string", description: "Service manager to target (default: systemd on Linux, launchd on macOS)", valueHint: "systemd|launchd" },
  },
  async run({ args }) {
    const action = args.action as string;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) throw new UsageError(`unknown action ${JSON.stringify(action)}`, `use one of: ${ACTIONS.join(", ")}`);
    const system = (args.system as string | undefined) ?? defaultSystem();
    if (system !== "systemd" && system !== "launchd") {
      throw new UsageError(system ? `unknown service manager ${JSON.stringify(system)}` : `no supported service manager on ${process.platform}`, "use --system systemd or --system launchd");
    }
    const dryRun = Boolean(args["dry-run"]);
    const filesOnly = Boolean(args["files-only"]);
    if (action === "install") return install(system, { dryRun, filesOnly, linger: args.linger !== false });
    if (action === "uninstall") return uninstall(system, { dryRun, filesOnly });
    return status(system);
  },
});
