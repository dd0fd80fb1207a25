/**
 * Replacing this process with a new program image (execve(2)), through libc: same pid, same open
 * descriptors (stdio), same parent. Used where a setting can only be given to the runtime at its
 * start, such as the node's garbage-collection pace (see node/runtime-env.ts).
 */
import { FFIType, ptr } from "bun:ffi";
import { cstr, openLibc } from "./libc";

/** A NULL-terminated array of pointers to `strings`, which must stay referenced until the call. */
function pointerArray(strings: Buffer[]): BigUint64Array {
  const a = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => (a[i] = BigInt(ptr(s))));
  return a;
}

/**
 * Runs `argv` in place of this process with environment `env`. Returns only if that failed (no
 * libc, or execve's error): the caller then carries on as it was.
 */
export function execInPlace(argv: string[], env: Record<string, string>): void {
  const c = openLibc({ execve: { args: [FFIType.cstring, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
  if (!c) return;
  const args = argv.map(cstr);
  const vars = Object.entries(env).map(([k, v]) => cstr(`${k}=${v}`));
  const argvPtrs = pointerArray(args);
  const envPtrs = pointerArray(vars);
  c.fn.execve!(args[0], argvPtrs, envPtrs);
  // Still here: execve failed. Keep the buffers alive to this point (the call above read them).
  void [args, vars, argvPtrs, envPtrs];
}
