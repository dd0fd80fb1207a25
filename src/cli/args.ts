/**
 * Parsing a command line against a command's citty argument spec.
 *
 * Commands declare their arguments with citty's `ArgsDef`; this reads argv against it. We do not
 * call citty's own parseArgs because it is built on node:util, whose loading costs a compiled
 * binary ~1.3 ms at start-up — a fifth of a whole `cw list`. Semantics follow citty's:
 * `--name value`, `--name=value`, `-a value`, `--flag`, `--no-flag`, `--flag=false`; the last
 * value of a repeated option wins (RunContext.all() gives every value); positionals fill the
 * declared ones in order and all of them are in `_`. Unlike citty, an unknown option or a
 * missing value is an error, so a typo never silently changes what a command does.
 *
 * Commands whose last positional is free text (send, msg, request, reply, broadcast, kv) take
 * `textAfterDash`: what follows `--` fills the remaining positionals as is, so text that starts
 * with - can be given (`cw send 1 -- "-end"`), as git and most CLIs do. For every command, a word
 * more than it declares is an error rather than silently dropped (unquoted text with spaces,
 * `cw logs 1 2`).
 */
import type { ArgsDef } from "citty";
import { UsageError } from "./errors";

interface ArgSpec {
  type?: string;
  alias?: string | string[];
  default?: unknown;
  required?: boolean;
  options?: string[];
}

export type Parsed = Record<string, unknown> & { _: string[] };

const aliasesOf = (a: ArgSpec) => (Array.isArray(a.alias) ? a.alias : a.alias ? [a.alias] : []);

/**
 * Parses `argv` (everything before a `--`) for command `cmd`; with `textAfterDash`, what came
 * after the `--` too. A word more than the declared positionals is an error unless `variadic`
 * (kill and wait take several sessions, all in `_`). Throws UsageError on bad input.
 */
export function parseCommandArgs(cmd: string, argv: string[], def: ArgsDef, textAfterDash?: string[], variadic = false): Parsed {
  const specs = def as Record<string, ArgSpec>;
  const positionalNames = Object.entries(specs).filter(([, a]) => a.type === "positional").map(([n]) => n);
  const byFlag = new Map<string, string>();
  for (const [name, a] of Object.entries(specs)) {
    if (a.type === "positional") continue;
    byFlag.set(`--${name}`, name);
    for (const al of aliasesOf(a)) byFlag.set(al.length === 1 ? `-${al}` : `--${al}`, name);
  }
  const hint = `run \`cw ${cmd} --help\` to see its options`;
  /** For a free-text command, how to give text that looks like an option. */
  const textHint = (text: string) => {
    const before = positionalNames.slice(0, Math.max(0, positionalNames.length - 1)).map((n) => (cmd === "kv" && n === "action" ? "set" : `<${n}>`));
    return `${hint}; text that starts with - goes after --: cw ${[cmd, ...before].join(" ")} -- ${JSON.stringify(text)}`;
  };
  const out: Parsed = { _: [] };
  for (const [name, a] of Object.entries(specs)) if (a.type !== "positional" && a.default !== undefined) out[name] = a.default;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // "-" alone and negative numbers are values, not options.
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      out._.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    let name = byFlag.get(flag);
    let negated = false;
    if (name === undefined && flag.startsWith("--no-")) {
      const positive = byFlag.get(`--${flag.slice(5)}`);
      if (positive !== undefined && specs[positive]!.type === "boolean") [name, negated] = [positive, true];
    }
    if (name === undefined) throw new UsageError(`unknown option ${flag} for cw ${cmd}`, textAfterDash ? textHint(arg) : hint);
    const spec = specs[name]!;
    if (spec.type === "boolean") {
      if (negated) out[name] = false;
      else if (inline === undefined) out[name] = true;
      else if (inline === "true" || inline === "false") out[name] = inline === "true";
      else throw new UsageError(`${flag} takes no value (got ${JSON.stringify(inline)})`, hint);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`, hint);
      value = argv[++i]!;
    }
    if (spec.type === "enum" && spec.options?.length && !spec.options.includes(value)) {
      throw new UsageError(`${flag} must be one of ${spec.options.join(", ")} (got ${JSON.stringify(value)})`, hint);
    }
    out[name] = value;
  }

  if (textAfterDash) out._.push(...textAfterDash);
  if (!variadic && out._.length > positionalNames.length) {
    const extra = out._.slice(positionalNames.length);
    const takes = positionalNames.length ? `cw ${cmd} takes ${positionalNames.map((n) => (specs[n]!.required === false ? `[${n}]` : `<${n}>`)).join(" ")}` : `cw ${cmd} takes no arguments, only options`;
    throw new UsageError(
      `too many arguments for cw ${cmd}: ${extra.map((x) => JSON.stringify(x)).join(" ")} left over`,
      textAfterDash ? `${takes}; quote text that has spaces, and put options before --` : `${takes}; see \`cw ${cmd} --help\``,
    );
  }
  const positionals = [...out._];
  for (const [name, a] of Object.entries(specs)) {
    if (a.type === "positional") {
      const v = positionals.shift();
      if (v !== undefined) out[name] = v;
      else if (a.default !== undefined) out[name] = a.default;
      else if (a.required !== false) throw new UsageError(`missing <${name}>`, `usage is in \`cw ${cmd} --help\``);
    } else if (a.required && out[name] === undefined) {
      throw new UsageError(`missing --${name}`, hint);
    }
  }
  return out;
}
