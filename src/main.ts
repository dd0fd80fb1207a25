/**
 * The binary's entry. `cw list` alone is answered by cli/quick-list.ts before the command table
 * loads (see there why); everything else goes through cli/main.ts. Both are imported on demand,
 * so neither path evaluates the other's modules.
 */
export {}; // a module, for the top-level await below

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === "list") {
    try {
      const status = (await import("./cli/quick-list")).quickList();
      if (status !== undefined) return status;
    } catch (e) {
      return (await import("./cli/errors")).report(e, "list");
    }
  }
  return (await import("./cli/main")).main(argv);
}

const status = await run(process.argv.slice(2));
// Commands that stream (attach, watch, subscribe) return once done; nothing else should linger.
process.exit(status);
