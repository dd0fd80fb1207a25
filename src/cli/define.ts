/**
 * How a command is declared: citty's argument spec plus examples for --help, and a run
 * function that also gets what follows `--` and every value of repeatable flags.
 */
import type { ArgsDef, CommandDef, ParsedArgs } from "citty";

export interface RunContext<A extends ArgsDef> {
  args: ParsedArgs<A>;
  /** Everything after the first `--`, untouched (empty for a textAfterDash command). */
  rest: string[];
  /** Every value given for a repeatable flag (citty keeps only the last). */
  all(name: string, alias?: string): string[];
}

export interface CwCommand<A extends ArgsDef = ArgsDef> {
  name: string;
  description: string;
  usage?: string;
  examples: string[];
  args: A;
  /**
   * The last positional is free text (a message, input to type): what follows `--` fills the
   * positionals as is, so text may start with - (`cw send 1 -- "-end"`). Without it, what
   * follows `--` is the command's `rest` (a program to run, as for launch).
   */
  textAfterDash?: boolean;
  /** Takes any number of positionals (sessions to kill or wait for), all in `args._`. */
  variadic?: boolean;
  /** Returns the exit status (default 0). */
  run(ctx: RunContext<A>): Promise<number | void> | number | void;
}

export function defineCwCommand<const A extends ArgsDef>(c: CwCommand<A>): CwCommand<A> {
  return c;
}

export function collect(raw: string[], name: string, alias?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    if (a === "--") break;
    for (const flag of [`--${name}`, ...(alias ? [`-${alias}`] : [])]) {
      if (a === flag && i + 1 < raw.length) out.push(raw[++i]!);
      else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
    }
  }
  return out;
}

export type { CommandDef };

// biome-ignore lint/suspicious/noExplicitAny: the command table holds commands of every argument shape
export type AnyCommand = CwCommand<any>;
