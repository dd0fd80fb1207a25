/**
 * The terminal cursor's blink, by a timer, instead of xterm.js's. Its DOM renderer blinks the
 * cursor with an infinite CSS animation, under which Chromium makes a frame on every vsync for as
 * long as the terminal is shown, and a key's echo waited behind those frames: in web-echo's bench
 * it reached xterm.js 10.5 ms after the key at p50 (the same page without the animation: about
 * 2 ms), and was painted a frame later still. Here a class on the terminal's element hides the
 * cursor (style.css), turned on and off every BLINK_MS: a frame at each turn and none between.
 *
 * As with xterm.js's, the cursor stays shown while one types: a key puts the next turn off, and
 * output that moves the cursor (the key's echo) shows it. As GTK's
 * terminals do, it stops blinking (shown) after IDLE_MS without either, and while the page is
 * hidden or the terminal unfocused (xterm.js then draws an outline cursor, which never blinks),
 * so a page left open draws nothing.
 */
import type { Terminal } from "@xterm/xterm";

const BLINK_MS = 600;
const IDLE_MS = 10_000;
const OFF_CLASS = "cw-cursor-off";

export function blinkCursor(el: HTMLElement, term: Terminal): () => void {
  let off = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let active = performance.now();
  let focused = false;

  const hide = (h: boolean) => {
    if (h === off) return;
    off = h;
    el.classList.toggle(OFF_CLASS, h);
  };
  const tick = () => {
    timer = undefined;
    if (!focused || document.hidden || performance.now() - active > IDLE_MS) return hide(false);
    hide(!off);
    timer = setTimeout(tick, BLINK_MS);
  };
  /** The next turn a full period from now; `show`: shown until then. */
  const restart = (show = true) => {
    active = performance.now();
    if (show) hide(false);
    clearTimeout(timer);
    timer = focused && !document.hidden ? setTimeout(tick, BLINK_MS) : undefined;
  };

  // A key only puts the next turn off: shown at once, the cursor would ask for a frame just as
  // the key's echo is on its way, and the echo would wait for that frame. The echo moves the
  // cursor, which shows it in the frame that draws the echo.
  const subs = [term.onData(() => restart(false)), term.onCursorMove(() => restart())];
  const onFocus = () => {
    focused = true;
    restart();
  };
  const onBlur = () => {
    focused = false;
    restart();
  };
  const onVisibility = () => restart();
  const textarea = term.textarea;
  textarea?.addEventListener("focus", onFocus);
  textarea?.addEventListener("blur", onBlur);
  document.addEventListener("visibilitychange", onVisibility);
  if (textarea && document.activeElement === textarea) onFocus();

  return () => {
    clearTimeout(timer);
    for (const s of subs) s.dispose();
    textarea?.removeEventListener("focus", onFocus);
    textarea?.removeEventListener("blur", onBlur);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}
