/** Plain text out of terminal output: escape sequences and carriage-return overwrites removed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are the point
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[()*+][A-Za-z0-9]|\x1b[=>78DEHMNOcZ]|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/g;

export function stripTerminal(s: string): string {
  return s
    .replace(ESCAPES, "")
    .split("\n")
    .map((line) => {
      const l = line.endsWith("\r") ? line.slice(0, -1) : line;
      // A bare CR rewinds the line: keep what was drawn last.
      const i = l.lastIndexOf("\r");
      return i >= 0 ? l.slice(i + 1) : l;
    })
    .join("\n");
}
