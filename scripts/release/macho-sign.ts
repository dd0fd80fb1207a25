/**
 * Ad-hoc code signing of a thin 64-bit Mach-O executable, done here so macOS binaries can be
 * released from Linux.
 *
 * Why: `bun build --compile --target bun-darwin-x64` keeps the Bun runtime's original Developer
 * ID signature, which no longer matches once the app is embedded (page hashes differ and the
 * signed range stops short of the file's end), and macOS may kill a binary whose signature is
 * invalid. The darwin-arm64 output is ad-hoc signed correctly; we re-sign both the same way so
 * the two are alike and checked alike.
 *
 * The signature written is what Apple's linker writes ("linker-signed" ad-hoc): a SuperBlob
 * holding one CodeDirectory with a SHA-256 hash per 4 KiB page of everything before the
 * signature, and no requirements, entitlements or CMS blob. It replaces the old signature in
 * place at the end of __LINKEDIT, and the file is cut right after it.
 *
 *   bun scripts/release/macho-sign.ts <binary> [identifier]
 */
import { readFileSync, writeFileSync } from "node:fs";

const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const MH_MAGIC_64 = 0xfeedfacf;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const CD_VERSION = 0x20400; // with exec segment fields
const CD_HEADER = 88; // bytes of a version 0x20400 CodeDirectory before the identifier
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const HASH_SIZE = 32;
const HASH_SHA256 = 2;

interface Layout {
  sigCmd: number; // offset of the LC_CODE_SIGNATURE command
  sigOffset: number;
  linkedit: number; // offset of the __LINKEDIT segment command
  textFileoff: bigint;
  textFilesize: bigint;
}

function layout(b: Buffer): Layout {
  if (b.readUInt32LE(0) !== MH_MAGIC_64) throw new Error("not a thin 64-bit little-endian Mach-O file");
  const ncmds = b.readUInt32LE(16);
  let off = 32;
  const l: Partial<Layout> = {};
  for (let i = 0; i < ncmds; i++) {
    const cmd = b.readUInt32LE(off);
    if (cmd === LC_CODE_SIGNATURE) {
      l.sigCmd = off;
      l.sigOffset = b.readUInt32LE(off + 8);
    } else if (cmd === LC_SEGMENT_64) {
      const name = b.subarray(off + 8, off + 24).toString("latin1").replace(/\0+$/, "");
      if (name === "__LINKEDIT") l.linkedit = off;
      if (name === "__TEXT") {
        l.textFileoff = b.readBigUInt64LE(off + 40);
        l.textFilesize = b.readBigUInt64LE(off + 48);
      }
    }
    off += b.readUInt32LE(off + 4);
  }
  if (l.sigCmd === undefined || l.linkedit === undefined || l.textFilesize === undefined) {
    throw new Error("no LC_CODE_SIGNATURE, __LINKEDIT or __TEXT: not a binary bun build --compile made");
  }
  return l as Layout;
}

/** Returns the re-signed file. */
export function adhocSign(input: Buffer, identifier = "cw"): Buffer {
  const l = layout(input);
  const codeLimit = l.sigOffset;
  const nCode = Math.ceil(codeLimit / PAGE);
  const ident = Buffer.from(`${identifier}\0`, "latin1");
  const hashOffset = CD_HEADER + ident.length;
  const cdLength = hashOffset + nCode * HASH_SIZE;
  const sigLength = 20 + cdLength;

  const out = Buffer.alloc(codeLimit + sigLength);
  input.copy(out, 0, 0, codeLimit);
  // Point the load commands at the new signature first: they are part of the hashed pages.
  out.writeUInt32LE(sigLength, l.sigCmd + 12);
  const linkeditFileoff = out.readBigUInt64LE(l.linkedit + 40);
  const linkeditSize = BigInt(codeLimit + sigLength) - linkeditFileoff;
  out.writeBigUInt64LE(linkeditSize, l.linkedit + 48);
  // Grow the segment's memory size to cover it when needed, in 4 KiB steps as Bun does.
  const vmsize = ((linkeditSize + 0xfffn) / 0x1000n) * 0x1000n;
  if (vmsize > out.readBigUInt64LE(l.linkedit + 32)) out.writeBigUInt64LE(vmsize, l.linkedit + 32);

  let p = codeLimit;
  const u32 = (v: number) => {
    out.writeUInt32BE(v, p);
    p += 4;
  };
  const u64 = (v: bigint) => {
    out.writeBigUInt64BE(v, p);
    p += 8;
  };
  const u8 = (v: number) => {
    out[p++] = v;
  };
  // SuperBlob with one index entry: the CodeDirectory (slot 0) right after the 20-byte header.
  u32(CSMAGIC_EMBEDDED_SIGNATURE);
  u32(sigLength);
  u32(1);
  u32(0);
  u32(20);
  // CodeDirectory
  u32(CSMAGIC_CODEDIRECTORY);
  u32(cdLength);
  u32(CD_VERSION);
  u32(CS_ADHOC | CS_LINKER_SIGNED);
  u32(hashOffset);
  u32(CD_HEADER); // identOffset
  u32(0); // nSpecialSlots
  u32(nCode);
  u32(codeLimit);
  u8(HASH_SIZE);
  u8(HASH_SHA256);
  u8(0); // platform
  u8(PAGE_SHIFT);
  u32(0); // spare2
  u32(0); // scatterOffset
  u32(0); // teamOffset
  u32(0); // spare3
  u64(0n); // codeLimit64 (codeLimit fits in 32 bits)
  u64(l.textFileoff);
  u64(l.textFilesize);
  u64(BigInt(CS_EXECSEG_MAIN_BINARY));
  ident.copy(out, p);
  p += ident.length;
  for (let i = 0; i < nCode; i++) {
    const page = out.subarray(i * PAGE, Math.min((i + 1) * PAGE, codeLimit));
    const h = new Bun.CryptoHasher("sha256").update(page).digest();
    (h as Buffer).copy(out, p);
    p += HASH_SIZE;
  }
  return out;
}

/** Checks a Mach-O's CodeDirectory against the file: every page hash, and full coverage. */
export function signatureProblems(b: Buffer): string[] {
  const l = layout(b);
  const sig = l.sigOffset;
  if (b.readUInt32BE(sig) !== CSMAGIC_EMBEDDED_SIGNATURE) return ["has no embedded signature"];
  const count = b.readUInt32BE(sig + 8);
  for (let i = 0; i < count; i++) {
    if (b.readUInt32BE(sig + 12 + i * 8) !== 0) continue;
    const cd = sig + b.readUInt32BE(sig + 16 + i * 8);
    const out: string[] = [];
    const flags = b.readUInt32BE(cd + 12);
    const hashOffset = b.readUInt32BE(cd + 16);
    const nCode = b.readUInt32BE(cd + 28);
    const codeLimit = b.readUInt32BE(cd + 32);
    const pageSize = 1 << b[cd + 39]!;
    if (!(flags & CS_ADHOC)) out.push(`is not ad-hoc signed (flags 0x${flags.toString(16)})`);
    if (codeLimit !== sig) out.push(`signs ${codeLimit} bytes but its code runs to ${sig}`);
    if (b.length !== sig + b.readUInt32BE(sig + 4)) out.push("has bytes after its signature");
    let bad = 0;
    for (let pg = 0; pg < nCode; pg++) {
      const page = b.subarray(pg * pageSize, Math.min((pg + 1) * pageSize, codeLimit));
      const want = b.subarray(cd + hashOffset + pg * HASH_SIZE, cd + hashOffset + (pg + 1) * HASH_SIZE);
      if (!(new Bun.CryptoHasher("sha256").update(page).digest() as Buffer).equals(want)) bad++;
    }
    if (bad) out.push(`has ${bad} of ${nCode} page hashes that do not match`);
    return out;
  }
  return ["has no CodeDirectory"];
}

if (import.meta.main) {
  const [file, identifier] = process.argv.slice(2);
  if (!file) {
    console.error("usage: bun scripts/release/macho-sign.ts <binary> [identifier]");
    process.exit(2);
  }
  const signed = adhocSign(readFileSync(file), identifier);
  const problems = signatureProblems(signed);
  if (problems.length) {
    console.error(`macho-sign: ${file} ${problems.join("; ")}`);
    process.exit(1);
  }
  writeFileSync(file, signed);
  console.log(`ad-hoc signed ${file}`);
}
