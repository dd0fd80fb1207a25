/**
 * Keys a phone's on-screen keyboard lacks: Esc, Tab, Ctrl (held for the next key typed) and the
 * arrows, as one row of buttons under the terminal. Arrows follow the program's cursor-key mode
 * (vim and agents' TUIs switch it), as a real keyboard's would.
 */
import { h } from "./dom";

export interface KeyBar {
  el: HTMLElement;
  /** The next typed key, with Ctrl held if it was pressed on the bar. */
  filter(data: string): string;
}

export function keyBar(send: (data: string) => void, appCursor: () => boolean, refocus: () => void): KeyBar {
  let ctrl = false;
  const ctrlButton = h("button", { type: "button", "aria-pressed": "false", "data-key": "ctrl" }, "Ctrl");
  const setCtrl = (on: boolean) => {
    ctrl = on;
    ctrlButton.setAttribute("aria-pressed", String(on));
  };
  // The terminal keeps the focus (and the phone its keyboard) when a bar key is tapped.
  const keepFocus = (b: HTMLButtonElement) => {
    b.addEventListener("mousedown", (e) => e.preventDefault());
    b.addEventListener("click", refocus);
    return b;
  };
  ctrlButton.addEventListener("click", () => setCtrl(!ctrl));
  keepFocus(ctrlButton);
  const key = (label: string, name: string, seq: () => string) => {
    const b = h("button", { type: "button", "data-key": name, "aria-label": name }, label);
    b.addEventListener("click", () => send(seq()));
    return keepFocus(b);
  };
  const arrow = (c: string) => () => (appCursor() ? `\x1bO${c}` : `\x1b[${c}`);
  const el = h(
    "div",
    { class: "keybar", role: "toolbar", "aria-label": "Keys" },
    key("Esc", "escape", () => "\x1b"),
    key("Tab", "tab", () => "\t"),
    ctrlButton,
    key("←", "left", arrow("D")),
    key("↑", "up", arrow("A")),
    key("↓", "down", arrow("B")),
    key("→", "right", arrow("C")),
  );
  return {
    el,
    filter(data) {
      if (!ctrl || data.length !== 1) return data;
      setCtrl(false);
      const c = data.toUpperCase().charCodeAt(0);
      // Ctrl+@ .. Ctrl+_ as a terminal sends them; Ctrl with anything else is the key itself.
      return c >= 0x40 && c <= 0x5f ? String.fromCharCode(c - 0x40) : data;
    },
  };
}
