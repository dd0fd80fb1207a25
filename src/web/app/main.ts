/**
 * The codewire web app: sign in, the dashboard, a session's terminal or log, chosen by the
 * URL's fragment (#/, #/t/<node>/<id>[?view], #/log/<node>/<id>), so the browser's Back works.
 */
import "./nonce";
import "./buffer-shim";
import "./jitless";
import { z } from "zod";
import { CodeApprove, CodePending, CodeStarted, Me, Meta, OkReply } from "../api";
import { dashboard, say } from "./dashboard";
import { h, show } from "./dom";
import { ApiFailure, api, setCsrf } from "./http";
import { logView } from "./log-view";
import { terminalView } from "./terminal";

let leaveView: () => void = () => {};

async function start(): Promise<void> {
  // Both at once: signed in, /web/me says all the page needs; only the sign-in page needs meta.
  const meta = api("GET", "/web/meta", Meta);
  meta.catch(() => {});
  let me: Me;
  try {
    me = await api("GET", "/web/me", Me);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return signInPage((await meta).mode);
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
  return h("header", {}, h("a", { href: "#/", class: "brand" }, "codewire"), h("span", { class: "where" }, mode === "relay" ? "relay" : "this machine"), approveForm(), out);
}

/** Where a signed-in person lets another browser in, with the code that browser shows. */
function approveForm(): HTMLElement {
  const code = h("input", { name: "user_code", placeholder: "XXXX-XXXX", required: true, maxlength: "16", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const notice = h("span", { class: "approve-result", role: "status" });
  // Whoever holds an approved code's browser is signed in as you: the device flow's one risk.
  const form = h("form", {}, h("small", {}, "Approve only a code shown on a screen of your own."), code, h("button", { type: "submit" }, "Approve"), notice);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/web/signin/approve", OkReply, { user_code: code.value } satisfies z.input<typeof CodeApprove>);
      notice.textContent = "Approved: that browser is signed in.";
      code.value = "";
    } catch (e) {
      notice.textContent = e instanceof ApiFailure ? `${e.message}. ${e.hint}` : String(e);
    }
  });
  return h("details", { class: "approve" }, h("summary", {}, "Approve a code"), form);
}

const POLL_MS = 2000;

/** Asks for a code, shows it, and waits for a signed-in person to approve it. */
function codeSignIn(): HTMLElement {
  const shown = h("p", { class: "code", role: "status" });
  const get = h("button", { type: "button" }, "Sign in with a code");
  get.addEventListener("click", async () => {
    get.disabled = true;
    try {
      const started = await api("POST", "/web/signin/code", CodeStarted, {});
      shown.replaceChildren(h("strong", { class: "user-code" }, started.user_code), " — in a browser that is signed in, open Approve a code and enter it.");
      for (;;) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        const r = await api("POST", "/web/signin/code/poll", z.union([OkReply, CodePending]), { poll_id: started.poll_id });
        if ("ok" in r) return location.reload();
      }
    } catch (e) {
      shown.textContent = e instanceof ApiFailure ? `${e.message}. ${e.hint}` : String(e);
      get.disabled = false;
    }
  });
  return h("section", { class: "code-signin" }, h("p", {}, "Or let a browser that is signed in approve this one:"), get, shown);
}

function signInPage(mode: "local" | "relay"): void {
  document.body.dataset.signedIn = "false";
  if (mode === "local") {
    show(h("main", { class: "signin" }, h("h1", {}, "codewire"), h("p", {}, "Not signed in. Open the link that `cw web` printed: it signs this browser in, once. Run `cw web` again for a new link."), codeSignIn()));
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
  show(h("main", {}, form, codeSignIn()));
}

start().catch((e: Error) => show(h("main", {}, h("p", { class: "notice error" }, e.message))));
