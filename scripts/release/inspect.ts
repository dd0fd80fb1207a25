/**
 * Checks a compiled cw binary without running it: its executable format, CPU, libc (from the ELF
 * interpreter) and which bun-pty native libraries are embedded in it (by searching for each
 * library file's exact bytes, so a stale or wrong-architecture copy cannot pass), and for macOS
 * whether its code signature matches the file.
 *
 *   bun scripts/release/inspect.ts dist/release/v0.1.0/cw-v0.1.0-linux-arm64 ...
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { signatureProblems } from "./macho-sign";
import { ALL_PTY_LIBS, allowedLibs, type Platform } from "./platforms";

const PTY_DIR = resolve(import.meta.dir, "../../node_modules/bun-pty/rust-pty/target/release");

export interface BinaryInfo {
  format: "elf" | "macho" | "unknown";
  arch: "x64" | "arm64" | "unknown";
  /** ELF only: the program interpreter, which tells glibc from musl. */
  interpreter?: string;
  musl: boolean;
  embeddedLibs: string[];
  /** Mach-O only: what is wrong with its code signature (empty when it is valid). */
  signature?: string[];
}

const ELF_MACHINE: Record<number, BinaryInfo["arch"]> = { 0x3e: "x64", 0xb7: "arm64" };
const MACHO_CPU: Record<number, BinaryInfo["arch"]> = { 0x01000007: "x64", 0x0100000c: "arm64" };

export function inspectBinary(path: string): BinaryInfo {
  const buf = readFileSync(path);
  const info: BinaryInfo = { format: "unknown", arch: "unknown", musl: false, embeddedLibs: [] };
  if (buf.readUInt32BE(0) === 0x7f454c46) {
    info.format = "elf";
    info.arch = ELF_MACHINE[buf.readUInt16LE(18)] ?? "unknown";
    info.interpreter = elfInterpreter(buf);
    info.musl = /ld-musl/.test(info.interpreter ?? "");
  } else if (buf.readUInt32LE(0) === 0xfeedfacf) {
    info.format = "macho";
    info.arch = MACHO_CPU[buf.readUInt32LE(4)] ?? "unknown";
    info.signature = signatureProblems(buf);
  }
  for (const lib of ALL_PTY_LIBS) {
    if (buf.indexOf(readFileSync(join(PTY_DIR, lib))) >= 0) info.embeddedLibs.push(lib);
  }
  return info;
}

/** Reads PT_INTERP from a 64-bit little-endian ELF's program headers. */
function elfInterpreter(buf: Buffer): string | undefined {
  const phoff = Number(buf.readBigUInt64LE(32));
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (buf.readUInt32LE(h) !== 3) continue; // PT_INTERP
    const off = Number(buf.readBigUInt64LE(h + 8));
    const size = Number(buf.readBigUInt64LE(h + 32));
    return buf.subarray(off, off + size).toString("latin1").replace(/\0+$/, "");
  }
  return undefined;
}

/** Everything wrong with a binary built for `p`, as sentences; empty when it is right. */
export function problems(p: Platform, info: BinaryInfo): string[] {
  const out: string[] = [];
  const wantFormat = p.os === "darwin" ? "macho" : "elf";
  if (info.format !== wantFormat) out.push(`is ${info.format}, expected ${wantFormat}`);
  if (info.arch !== p.arch) out.push(`is built for ${info.arch}, expected ${p.arch}`);
  if (p.os === "linux" && info.musl !== p.musl) out.push(`uses interpreter ${info.interpreter}, expected a ${p.musl ? "musl" : "glibc"} one`);
  if (info.signature?.length) out.push(`has an invalid code signature: it ${info.signature.join("; ")}`);
  if (!info.embeddedLibs.includes(p.ptyLib)) out.push(`does not embed ${p.ptyLib}`);
  const stray = info.embeddedLibs.filter((l) => !allowedLibs(p).includes(l));
  if (stray.length) out.push(`embeds other platforms' libraries: ${stray.join(", ")}`);
  return out;
}

if (import.meta.main) {
  for (const f of process.argv.slice(2)) console.log(f, JSON.stringify(inspectBinary(f)));
}
