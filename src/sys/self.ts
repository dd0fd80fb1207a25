/** This cw itself: whether it runs as the compiled binary, and how to start another one. */

/** Compiled binaries run their code from Bun's embedded filesystem; `bun src/main.ts` does not. */
export function isCompiledBinary(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
}

/** The command line that runs this same cw: the compiled binary, or bun plus the entry script. */
export function selfCommand(): string[] {
  return isCompiledBinary() ? [process.execPath] : [process.execPath, Bun.main];
}
