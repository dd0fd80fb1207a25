/**
 * A session in the browser: xterm.js over a WebSocket that speaks `cw attach`'s frames (an
 * Attach request, then raw bytes both ways, Resize when the window changes, Detach to leave).
 * The node paints the session's current screen first, as for `cw attach`. Ctrl+B then d, or the
 * Detach button, leaves the session running. In view mode nothing typed is sent and the
 * terminal keeps the session's own size (a viewer must not resize what others work in).
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { describeStatus } from "../../protocol/constants";
import { DetachKeys } from "../../protocol/detach-keys";
import { Reply } from "../../protocol/replies";
import { PROTOCOL_VERSION } from "../../protocol/version";
import { connectPath, SessionsReply } from "../api";
import { h, show } from "./dom";
import { blinkCursor } from "./cursor-blink";
import { api } from "./http";
import { keyBar } from "./keybar";

const ESC_TIMEOUT_MS = 50;
const encoder = new TextEncoder();
/**
 * Dispatched (not bubbling) on the terminal's view each time xterm.js has parsed what the node
 * sent: when output is in the terminal's buffer, before it is drawn. For whatever watches the
 * page (the web-echo bench listens on window in the capture phase); cheap with no listener.
 */
export const WRITTEN_EVENT = "cw-written";

export function terminalView(node: string, id: number, viewOnly: boolean, header: HTMLElement, leave: () => void): () => void {
  const status = h("span", { class: "term-status", role: "status" }, "connecting…");
  const detach = h("button", { type: "button", class: "detach" }, viewOnly ? "Close" : "Detach");
  const title = h("span", { class: "term-title" }, `${node === "local" ? "" : `${node}:`}${id}${viewOnly ? " (view only)" : ""}`);
  const screen = h("div", { class: "term-screen" });
  const view = h("div", { class: "term-view", "data-state": "connecting", "data-mode": viewOnly ? "view" : "attach" }, h("div", { class: "term-bar" }, title, status, detach), screen);
  show(header, view);

  // The connection first: its handshake (with the relay, which reaches the node) goes on while
  // the terminal below is built, which takes the page tens of milliseconds.
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${connectPath(node)}`);
  ws.binaryType = "arraybuffer";

  // The cursor blinks by cursor-blink.ts, not by xterm.js's animation, which kept Chromium busy.
  const term = new Terminal({ cursorBlink: false, disableStdin: viewOnly, scrollback: 5000, fontFamily: "ui-monospace, Menlo, Consolas, monospace", fontSize: 14, theme: { background: "#111" } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  const stopBlink = viewOnly ? () => {} : blinkCursor(screen, term);
  let attached = false;
  let closing = false;
  const setState = (state: string, text: string) => {
    view.dataset.state = state;
    status.textContent = text;
  };
  const sendBytes = (bytes: Uint8Array) => {
    if (attached && ws.readyState === WebSocket.OPEN && bytes.length) ws.send(bytes as Uint8Array<ArrayBuffer>);
  };
  const sendControl = (m: object) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };

  // Typing: Ctrl+B then d leaves; everything else goes to the session as it was typed.
  const keys = new DetachKeys();
  let escTimer: ReturnType<typeof setTimeout> | undefined;
  const input = (bytes: Uint8Array) => {
    if (viewOnly) return;
    clearTimeout(escTimer);
    const r = keys.feed(bytes);
    sendBytes(r.forward);
    if (r.detach) return sendControl({ type: "Detach" });
    if (keys.holding) escTimer = setTimeout(() => sendBytes(keys.flushPending()), ESC_TIMEOUT_MS);
  };
  const bar = keyBar((seq) => input(encoder.encode(seq)), () => term.modes.applicationCursorKeysMode, () => term.focus());
  if (!viewOnly) view.append(bar.el);
  term.onData((d) => input(encoder.encode(bar.filter(d))));
  term.onBinary((d) => input(Uint8Array.from(d, (c) => c.charCodeAt(0))));
  term.onResize(({ cols, rows }) => {
    if (attached && !viewOnly) sendControl({ type: "Resize", cols, rows });
  });
  const refit = () => {
    if (!viewOnly) fit.fit();
  };
  const observer = new ResizeObserver(refit);
  observer.observe(screen);
  detach.addEventListener("click", () => {
    if (attached && !viewOnly) sendControl({ type: "Detach" });
    else leave();
  });

  /** The size to attach with: the window's, or in view mode the session's own. */
  const sized = async () => {
    if (!viewOnly) {
      fit.fit();
      return { cols: term.cols, rows: term.rows };
    }
    // The session's own size: viewing must not resize it for the people working in it.
    const { sessions } = await api("GET", `/web/nodes/${encodeURIComponent(node)}/sessions`, SessionsReply);
    const s = sessions.find((x) => x.id === id);
    const size = s ? { cols: s.cols, rows: s.rows } : { cols: term.cols, rows: term.rows };
    term.resize(size.cols, size.rows);
    return size;
  };

  let size = { cols: term.cols, rows: term.rows };
  const sizing = sized().then((s) => (size = s));
  sizing.catch((e: Error) => {
    closing = true;
    setState("error", e.message);
    ws.close(1000);
  });
  // Attach once both the connection and the size are there, whichever comes last.
  ws.onopen = () =>
    sizing.then(
      () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "Attach", protocol: PROTOCOL_VERSION, id, history: true, ...size }));
      },
      () => {},
    );
  const written = () => view.dispatchEvent(new Event(WRITTEN_EVENT));
  ws.onmessage = (ev) => {
    if (typeof ev.data !== "string") return term.write(new Uint8Array(ev.data as ArrayBuffer), written);
    let raw: unknown;
    try {
      raw = JSON.parse(ev.data);
    } catch {
      return;
    }
    const m = Reply.safeParse(raw);
    if (!m.success) return; // a newer node's message: ignore it, as cw attach does
    const r = m.data;
    if (r.type === "Attached") {
      attached = true;
      setState("attached", r.session.name ? `${r.session.name} — ${r.session.prompt}` : r.session.prompt);
      if (!viewOnly) term.focus();
      // The window may have changed while connecting.
      if (!viewOnly && (term.cols !== size.cols || term.rows !== size.rows)) sendControl({ type: "Resize", cols: term.cols, rows: term.rows });
    } else if (r.type === "AttachEnded") {
      attached = false;
      closing = true;
      if (r.reason === "detached") return leave();
      const why = r.reason === "node_stopping" ? "the node stopped" : `session ended: ${describeStatus(r.session)}`;
      setState("ended", why);
      detach.textContent = "Back";
    } else if (r.type === "Error") {
      closing = true;
      setState("error", `${r.message}${r.hint ? ` — ${r.hint}` : ""}`);
      detach.textContent = "Back";
    }
  };
  ws.onclose = () => {
    attached = false;
    if (closing || view.dataset.state === "ended") return;
    setState("closed", "the connection closed");
    detach.textContent = "Back";
  };

  return () => {
    closing = true;
    clearTimeout(escTimer);
    observer.disconnect();
    stopBlink();
    ws.close(1000);
    term.dispose();
  };
}
