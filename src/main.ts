/**
 * The binary's entry. `cw list` alone is answered by cli/quick-list.ts before the command table
 * loads (see there why); everything else goes through cli/main.ts, imported on demand. The short
 * path is imported statically: the build bundles it, with its own copies of the modules it uses,
 * into this entry's chunk (scripts/build.ts, shortPathInEntry), so it loads no chunk of its own.
 */
import { quickList } from "./cli/quick-list";
import { normalJit } from "./sys/jit";

/** Commands that serve until stopped (see below). */
const LONG_RUNNING = new Set(["node", "relay", "web", "mcp-server"]);

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === "list") {
    try {
      const status = quickList();
      if (status !== undefined) return status;
    } catch (e) {
      return (await import("./cli/errors")).report(e, "list");
    }
  }
  return (await import("./cli/main")).main(argv);
}

const argv = process.argv.slice(2);
// These serve for long: the JIT as usual before any module of theirs evaluates (sys/jit.ts says
// why the binary starts otherwise, and why not later).
if (LONG_RUNNING.has(argv[0] ?? "")) normalJit();
const status = await run(argv);
// Commands that stream (attach, watch, subscribe) return once done; nothing else should linger.
process.exit(status);
