/**
 * Whether output asks the terminal a question: the screen emulator answers those while nobody
 * is attached, and a TUI waits for the answer (the node hands such output to the emulator at
 * once, the rest a little later, in batches; see screens.ts).
 *
 * Recognised, on raw bytes (no decoding): DSR (CSI … n), device attributes (CSI … c), DECRQM
 * (CSI … $ p), XTVERSION (CSI > … q), the kitty keyboard query (CSI ? u), OSC colour and
 * clipboard queries (OSC … ; ?) and DCS requests (DCS $ q, DCS + q). A sequence split across two
 * chunks is not seen: its answer then comes with the next batch, a few tens of ms late.
 */
const ESC = 0x1b;

export function asksTheTerminal(b: Uint8Array): boolean {
  for (let i = b.indexOf(ESC); i >= 0 && i + 2 < b.length; i = b.indexOf(ESC, i + 1)) {
    const kind = b[i + 1];
    if (kind === 0x5b /* [ */ && csiQuery(b, i + 2)) return true;
    if (kind === 0x5d /* ] */ && oscQuery(b, i + 2)) return true;
    if (kind === 0x50 /* P */ && (b[i + 2] === 0x24 /* $ */ || b[i + 2] === 0x2b) /* + */ && b[i + 3] === 0x71 /* q */) return true;
  }
  return false;
}

/** A control sequence from `start` (just after "ESC ["): parameters, intermediates, final byte. */
function csiQuery(b: Uint8Array, start: number): boolean {
  const prefix = b[start];
  let j = start;
  while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x3f) j++;
  let dollar = false;
  while (j < b.length && b[j]! >= 0x20 && b[j]! <= 0x2f) dollar ||= b[j++] === 0x24;
  switch (b[j]) {
    case 0x6e: // n: device status report
    case 0x63: // c: device attributes
      return true;
    case 0x70: // p: with $, request mode
      return dollar;
    case 0x71: // q: with >, the terminal's name and version
      return prefix === 0x3e;
    case 0x75: // u: "CSI ? u" alone asks the kitty keyboard flags
      return prefix === 0x3f && j === start + 1;
    default:
      return false;
  }
}

/** An operating system command from `start` (just after "ESC ]"): "Ps ; … ; ?" asks. */
function oscQuery(b: Uint8Array, start: number): boolean {
  // OSC queries are short; a long OSC (a title, a hyperlink, clipboard data) is not one.
  const end = Math.min(b.length, start + 32);
  for (let j = start; j < end; j++) {
    const c = b[j]!;
    if (c === 0x07 || c === ESC) return false;
    if (c === 0x3f /* ? */ && b[j - 1] === 0x3b /* ; */ && (j + 1 >= b.length || b[j + 1] === 0x07 || b[j + 1] === ESC || b[j + 1] === 0x3b)) return true;
  }
  return false;
}
