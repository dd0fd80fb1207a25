/**
 * The codewire web app: sign in, the dashboard, a session's terminal or log, chosen by the
 * URL's fragment (#/, #/t/<node>/<id>[?view], #/log/<node>/<id>), so the browser's Back works.
 */
import "./nonce";
import "./buffer-shim";
import { Me, Meta, OkReply } from "../api";
import { dashboard, say } from "./dashboard";
import { h, show } from "./dom";
import { ApiFailure, api, setCsrf } from "./http";
import { logView } from "./log-view";
import { terminalView } from "./terminal";

let leaveView: () => void = () => {};

async function start(): Promise<void> {
  const meta = await api("GET", "/web/meta", Meta);
  let me: Me;
  try {
    me = await api("GET", "/web/me", Me);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return signInPage(meta.mode);
    throw e;
  }
  setCsrf(me.csrf);
  document.body.dataset.signedIn = "true";
  const route = () => {
    leaveView();
    leaveView = open(me.mode, header(me.mode));
  };
  window.addEventListener("hashchange", route);
  route();
}

function open(mode: "local" | "relay", top: HTMLElement): () => void {
  const m = /^#\/(t|log)\/([^/]+)\/(\d+)(\?view)?$/.exec(location.hash);
  if (!m) return dashboard(mode, top);
  const node = decodeURIComponent(m[2]!);
  const id = Number(m[3]);
  if (m[1] === "log") return logView(node, id, top);
  return terminalView(node, id, m[4] !== undefined, top, () => {
    location.hash = "#/";
  });
}

function header(mode: "local" | "relay"): HTMLElement {
  const out = h("button", { type: "button", class: "signout" }, "Sign out");
  out.addEventListener("click", async () => {
    await api("POST", "/web/signout", OkReply, {}).catch(() => undefined);
    leaveView();
    location.hash = "";
    location.reload();
  });
  return h("header", {}, h("a", { href: "#/", class: "brand" }, "codewire"), h("span", { class: "where" }, mode === "relay" ? "relay" : "this machine"), out);
}

function signInPage(mode: "local" | "relay"): void {
  document.body.dataset.signedIn = "false";
  if (mode === "local") {
    show(h("main", { class: "signin" }, h("h1", {}, "codewire"), h("p", {}, "Not signed in. Open the link that `cw web` printed: it signs this browser in, once. Run `cw web` again for a new link.")));
    return;
  }
  const token = h("input", { name: "token", type: "password", required: true, autocomplete: "current-password", placeholder: "token" });
  const notice = h("p", { class: "notice", role: "status" });
  const form = h("form", { class: "signin" }, h("h1", {}, "codewire relay"), h("p", {}, "Sign in with your token (the relay's admin token)."), h("label", {}, "Token ", token), h("button", { type: "submit" }, "Sign in"), notice);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/web/signin", OkReply, { token: token.value });
      location.reload();
    } catch (e) {
      say(notice, e);
    }
  });
  show(h("main", {}, form));
}

start().catch((e: Error) => show(h("main", {}, h("p", { class: "notice error" }, e.message))));
