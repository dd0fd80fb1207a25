/**
 * Recognises the detach chord, Ctrl+B then d, in the raw bytes a terminal sends, and passes
 * everything else through unchanged.
 *
 * Handles the legacy encoding (0x02, then 'd'), the kitty keyboard protocol's CSI-u forms
 * (ESC[98;5u then ESC[100u) and xterm's modifyOtherKeys form of Ctrl+B (ESC[27;5;98~), which a
 * program in the session may have switched on (Claude Code turns on both). Focus
 * reports, mouse reports and key-release events arriving between the two keys are passed on
 * and do not cancel the chord. Ctrl+B twice sends one Ctrl+B, as in tmux.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal input
const PREFIX_RE = /^(?:\x02|\x1b\[98;5(?::1)?u|\x1b\[27;5;98~)/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal input
const DETACH_RE = /^(?:d|\x1b\[100(?:;1(?::1)?)?u)/;
/** Input that may sit between the keys without cancelling: focus, mouse, key releases. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal input
const NEUTRAL_RE = /^(?:\x1b\[[IO]|\x1b\[<[\d;]*[mM]|\x1b\[M[\s\S]{3}|\x1b\[\d+(?:;\d+)?:3u)/;
/** A sequence that might still grow into one of the above. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal input
const PARTIAL_RE = /^\x1b(?:\[(?:[\d;:<]*|M.{0,2}))?$/s;

export interface KeyResult {
  /** Bytes to forward to the session. */
  forward: Uint8Array;
  detach: boolean;
}

export class DetachKeys {
  private armed = false;
  /** The prefix key's own bytes, held back until we know what follows. */
  private held = "";
  private pending = "";

  feed(chunk: Uint8Array): KeyResult {
    // Most input (every ordinary key) has neither byte that can begin the chord: it goes as it
    // is, without the string round trip below (measured in the node: 36 µs of a keystroke's echo
    // on a loaded 2-core machine, where this takes none).
    if (!this.armed && this.pending === "" && chunk.indexOf(0x02) < 0 && chunk.indexOf(0x1b) < 0) return { forward: chunk, detach: false };
    // latin1 keeps bytes 1:1, so forwarding is lossless.
    let s = this.pending + Buffer.from(chunk).toString("latin1");
    this.pending = "";
    let out = "";
    while (s.length) {
      if (this.armed) {
        const neutral = NEUTRAL_RE.exec(s);
        if (neutral) {
          out += neutral[0];
          s = s.slice(neutral[0].length);
          continue;
        }
        const detach = DETACH_RE.exec(s);
        if (detach) {
          this.armed = false;
          return { forward: Buffer.from(out, "latin1"), detach: true };
        }
        if (PARTIAL_RE.test(s)) {
          this.pending = s;
          break;
        }
        const again = PREFIX_RE.exec(s);
        this.armed = false;
        if (again) {
          out += this.held;
          s = s.slice(again[0].length);
        } else out += this.held;
        this.held = "";
        continue;
      }
      const prefix = PREFIX_RE.exec(s);
      if (prefix) {
        this.armed = true;
        this.held = prefix[0];
        s = s.slice(prefix[0].length);
        continue;
      }
      // Copy up to the next byte that could start something we care about.
      const next = s.slice(1).search(/[\x02\x1b]/);
      const n = next < 0 ? s.length : next + 1;
      out += s.slice(0, n);
      s = s.slice(n);
    }
    return { forward: Buffer.from(out, "latin1"), detach: false };
  }

  /** True while bytes are held back waiting for the next key. */
  get holding(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Input went quiet with an incomplete sequence after the prefix (a lone Escape, say): it was
   * not a detach, so give back what was held.
   */
  flushPending(): Uint8Array {
    const out = this.held + this.pending;
    this.armed = false;
    this.held = "";
    this.pending = "";
    return Buffer.from(out, "latin1");
  }
}
