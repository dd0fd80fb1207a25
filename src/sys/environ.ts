/**
 * The C library's environment of this process, narrowed for one call.
 *
 * Why: bun-pty's native spawn starts the child from this process's C environment and lays the
 * environment it is given on top, so every variable of whoever started the node would reach
 * every session (a stale token, another project's settings). A session must get exactly the
 * environment it was launched with. Bun's `process.env` is a copy and does not change the C
 * one, so the variables the session must not see are unset through libc for the duration of
 * the spawn and put back right after.
 *
 * Safe here because the node's JavaScript runs on one thread and the spawn is synchronous; the
 * runtime's own threads read the environment only while starting up. The C environment always
 * returns to the same set of variables, so it never grows.
 */
import { FFIType } from "bun:ffi";
import { cstr, openLibc } from "./libc";

let calls: { unsetenv(k: Buffer): number; setenv(k: Buffer, v: Buffer, overwrite: number): number } | null | undefined;

function envCalls() {
  if (calls !== undefined) return calls;
  const c = openLibc({
    unsetenv: { args: [FFIType.cstring], returns: FFIType.i32 },
    setenv: { args: [FFIType.cstring, FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  });
  calls = c && {
    unsetenv: (k) => c.fn.unsetenv!(k) as number,
    setenv: (k, v, o) => c.fn.setenv!(k, v, o) as number,
  };
  return calls;
}


/**
 * Runs `fn` with the C environment holding only variables named in `keep` (their values as they
 * were), then restores it. `fn` must not call back into JavaScript that spawns.
 */
export function withEnvironOnly<T>(keep: Record<string, string>, fn: () => T): T {
  const libc = envCalls();
  const own = process.env;
  const dropped: [string, string][] = [];
  if (libc) {
    for (const [k, v] of Object.entries(own)) {
      if (v === undefined || Object.hasOwn(keep, k) || k.includes("=")) continue;
      if (libc.unsetenv(cstr(k)) === 0) dropped.push([k, v]);
    }
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of dropped) libc!.setenv(cstr(k), cstr(v), 1);
  }
}

/** Removes `names` from this process's environment: the JavaScript copy and the C one. */
export function unsetEnviron(names: string[]): void {
  const libc = envCalls();
  for (const k of names) {
    delete process.env[k];
    libc?.unsetenv(cstr(k));
  }
}
