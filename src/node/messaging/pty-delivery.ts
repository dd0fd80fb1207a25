/**
 * Typing a message into a session's terminal the way agents' TUIs accept it: as a bracketed
 * paste when the program asked for bracketed paste, then Enter as a separate write after a
 * pause (an Enter inside or right after a paste is swallowed by many TUIs), then a check that
 * the input was taken — the composer line no longer holds it — and one retry of the Enter.
 * A program on pipes gets the message as one line instead.
 */
import type { Screens } from "../screen/screens";
import type { Session } from "../session";

const PASTE_SETTLE_MS = 150;
const CHECK_AFTER_MS = 400;

export async function typeIntoSession(s: Session, screens: Screens, text: string): Promise<boolean> {
  if (!s.onTerminal) {
    // A program on pipes reads lines: the message is one line, ended by a newline. There is no
    // screen to check, and nothing to paste into.
    s.write(`${text.replace(/\r?\n/g, " ")}\n`);
    return true;
  }
  const probe = await screens.probe(s.id);
  const paste = probe?.bracketedPaste ?? false;
  // Without bracketed paste a newline would submit early: keep the message on one line.
  const body = paste ? text : text.replace(/\r?\n/g, " ");
  s.write(paste ? `\x1b[200~${body}\x1b[201~` : body);
  await Bun.sleep(PASTE_SETTLE_MS);
  if (!s.running) return false;
  const marker = body.replace(/\s+/g, " ").trim().slice(-16);
  for (let attempt = 0; attempt < 2; attempt++) {
    s.write("\r");
    await Bun.sleep(CHECK_AFTER_MS);
    if (!s.running) return true;
    const after = await screens.probe(s.id);
    if (!after) return true; // no screen to check against: assume taken
    if (!after.cursorLine.replace(/\s+/g, " ").includes(marker)) return true;
  }
  return false;
}
