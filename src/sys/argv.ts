/**
 * A command-line argument's bytes as they were given. Bun decodes process.argv as UTF-8 and puts
 * U+FFFD where a byte is not valid UTF-8; on Linux /proc/self/cmdline still holds the bytes.
 */
import { readFileSync } from "node:fs";

/**
 * The bytes of the argument Bun decoded to `decoded`: the last argument that decodes to it (text
 * comes after the options and the session), or the text re-encoded where there is no /proc.
 */
export function argBytes(decoded: string): Buffer {
  const encoded = Buffer.from(decoded, "utf8");
  if (!decoded.includes("\ufffd")) return encoded;
  let cmdline: Buffer;
  try {
    cmdline = readFileSync("/proc/self/cmdline");
  } catch {
    return encoded;
  }
  const args: Buffer[] = [];
  for (let start = 0; start < cmdline.length; ) {
    const end = cmdline.indexOf(0, start);
    args.push(cmdline.subarray(start, end < 0 ? cmdline.length : end));
    start = end < 0 ? cmdline.length : end + 1;
  }
  for (let i = args.length - 1; i >= 0; i--) if (args[i]!.toString("utf8") === decoded) return Buffer.from(args[i]!);
  return encoded;
}
