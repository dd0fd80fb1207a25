/**
 * A Node built-in module, loaded when first needed through process.getBuiltinModule rather than
 * require(): in the short path of `cw list` a require() would cost a chunk of the bundler's
 * helpers at start-up (scripts/build.ts, shortPathInEntry). The fallbacks that use this run rarely.
 */
export function builtin<K extends keyof Builtins>(id: K): Builtins[K] {
  return (process as unknown as { getBuiltinModule(id: K): Builtins[K] }).getBuiltinModule(id);
}

interface Builtins {
  "node:fs": typeof import("node:fs");
  "node:os": typeof import("node:os");
  "node:tty": typeof import("node:tty");
}
