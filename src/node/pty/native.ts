/**
 * Thin binding over bun-pty's native library.
 *
 * We bind the library ourselves instead of using bun-pty's `Terminal` class because that class
 * decodes output to UTF-8 strings (losing raw bytes), reads 4 KiB at a time in a loop that
 * starves the event loop under heavy output, and polls idle terminals on an 8 ms timer (adding
 * up to 8 ms to every keystroke echo). Here output stays raw bytes and one shared poller
 * (poller.ts) services every terminal.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { ptyLibraryPath } from "./library";

let lib: ReturnType<typeof load> | undefined;

function load() {
  return dlopen(ptyLibraryPath(), {
    bun_pty_spawn: {
      args: [FFIType.cstring, FFIType.cstring, FFIType.cstring, FFIType.i32, FFIType.i32],
      returns: FFIType.i32,
    },
    bun_pty_write: { args: [FFIType.i32, FFIType.pointer, FFIType.i32], returns: FFIType.i32 },
    bun_pty_read: { args: [FFIType.i32, FFIType.pointer, FFIType.i32], returns: FFIType.i32 },
    bun_pty_resize: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bun_pty_get_pid: { args: [FFIType.i32], returns: FFIType.i32 },
    bun_pty_get_exit_code: { args: [FFIType.i32], returns: FFIType.i32 },
    bun_pty_close: { args: [FFIType.i32], returns: FFIType.void },
  }).symbols;
}

export function native() {
  lib ??= load();
  return lib;
}

/** Read result codes of bun_pty_read. */
export const READ_NONE = 0;
export const READ_EXITED = -2;

/** Quote for the shell-words split the native side performs (no shell is involved). */
export function shellWord(s: string): string {
  return s.length === 0 ? "''" : `'${s.replace(/'/g, `'\\''`)}'`;
}

export { cstr } from "../../sys/libc";

export { ptr };
