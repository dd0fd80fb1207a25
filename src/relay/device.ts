/**
 * The operator's page for the device flow: `GET /device[?code=XXXX-XXXX]` shows a form (the
 * user code, the admin token, Approve and Deny); `POST /device` (form-encoded `user_code`,
 * `token`, `action=approve|deny`) decides and says what happened. Plain HTML, no script, and
 * no bearer header: the admin token comes in the form, checked in constant time by RelayAuth.
 * Everything shown that came from a request or the database is escaped. The JSON side of the
 * flow (authorize, poll, approve) is in app.ts.
 */
import type { Context, Env, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DeviceFormRequest, formatUserCode, normalizeUserCode } from "../protocol/relay-api";
import type { RelayAuth } from "./auth";
import type { DevicePending, RelayStore } from "./store/interface";

export interface DevicePageDeps {
  store: RelayStore;
  auth: RelayAuth;
}

/** The form is three short fields; anything bigger is not from it. */
const FORM_MAX_BYTES = 16 * 1024;

const HEADERS: Record<string, string> = {
  // No script, no frames (no clickjacking of the Approve button), forms only to this relay.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  // The URL carries the user code, and the page may show a node's name: keep both to ourselves.
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export function registerDevicePage<E extends Env>(app: Hono<E>, deps: DevicePageDeps): void {
  const { store, auth } = deps;

  app.get("/device", async (c) => {
    const typed = c.req.query("code") ?? "";
    if (typed === "") return page(c, 200, "Approve a node", "", form(""));
    const code = normalizeUserCode(typed);
    const pending = code === null ? null : await store.pendingDeviceRequest(code);
    if (!pending) {
      return page(c, 200, "Approve a node", `<p class="warn">No request is waiting with the code <code>${esc(typed)}</code>: it may be mistyped, expired, or decided already.</p>`, form(typed));
    }
    const minutes = Math.max(1, Math.ceil(pending.secondsLeft / 60));
    return page(c, 200, "Approve a node", `${describe(pending)}<p>The request expires in about ${minutes} minute${minutes === 1 ? "" : "s"}. Approve it only if you started <code>cw setup</code> on that machine: approving registers the node and gives that machine a user token, which reaches every node of this relay (revoke it with <code>cw tokens revoke</code>).</p>`, form(formatUserCode(code!)));
  });

  app.post(
    "/device",
    bodyLimit({ maxSize: FORM_MAX_BYTES, onError: (c) => page(c, 413, "Request too large", `<p>The form sent is over ${FORM_MAX_BYTES} bytes.</p>`, form("")) }),
    async (c) => {
      let raw: Record<string, unknown> = {};
      try {
        raw = await c.req.parseBody();
      } catch {
        // Not a form: treated as an empty one below.
      }
      const strings = Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === "string"));
      const r = DeviceFormRequest.safeParse(strings);
      if (!r.success) return page(c, 400, "Bad request", "<p>Send the form with a user code, the admin token, and Approve or Deny.</p>", form(typeof strings.user_code === "string" ? strings.user_code : ""));
      const { user_code: typed, token, action } = r.data;
      const who = token.trim() === "" ? null : await auth.identify(`Bearer ${token.trim()}`);
      if (who?.kind !== "admin") {
        return page(c, 401, "Not the admin token", "<p class=\"warn\">That is not this relay's admin token, so nothing was approved or denied. It is CW_AUTH_TOKEN on the relay, or the token the relay printed when it first started; a node's token cannot approve.</p>", form(typed));
      }
      const code = normalizeUserCode(typed);
      const decided = code === null ? null : await store.decideDeviceRequest(code, action === "approve");
      if (!decided) {
        return page(c, 404, "No such request", `<p class="warn">No request is waiting with the code <code>${esc(typed)}</code>: it may be mistyped, expired, or decided already. Nothing was approved or denied.</p>`, form(typed));
      }
      const name = `<strong>${esc(decided.name)}</strong>`;
      if (action === "deny") {
        return page(c, 200, "Denied", `<p>Node ${name} (code <code>${esc(formatUserCode(code!))}</code>) was denied; its <code>cw setup</code> stops with an error. Nothing was registered.</p>`);
      }
      const replaces = decided.replaces
        ? `<p class="warn">A node named ${name} was already registered: its old token stops working, and its connection is dropped, when this machine picks up its new one.</p>`
        : "";
      return page(c, 200, "Approved", `<p>Node ${name} (code <code>${esc(formatUserCode(code!))}</code>) is approved. Its <code>cw setup</code> receives its token within a few seconds and finishes by itself.</p>${replaces}`);
    },
  );
}

function describe(p: DevicePending): string {
  const name = `<strong>${esc(p.name)}</strong>`;
  const replaces = p.replaces ? `<p class="warn">A node named ${name} is already registered: approving gives the name to the new machine and the old token stops working.</p>` : "";
  return `<p>A machine asks to join this relay as node ${name}.</p>${replaces}`;
}

function form(userCode: string): string {
  return `<form method="post" action="device">
<label>User code <input name="user_code" value="${esc(userCode)}" required maxlength="64" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX"></label>
<label>Admin token <input name="token" type="password" required maxlength="1024" autocomplete="off"></label>
<div class="buttons"><button name="action" value="approve">Approve</button> <button name="action" value="deny">Deny</button></div>
</form>`;
}

function page(c: Context, status: ContentfulStatusCode, title: string, body: string, after = ""): Response {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)} · codewire relay</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; }
label { display: block; margin: 1rem 0; }
input { display: block; width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
input[name=user_code] { font-family: ui-monospace, monospace; letter-spacing: .1em; text-transform: uppercase; }
button { font: inherit; padding: .4rem 1.2rem; }
.warn { background: #fff4d6; border-left: 4px solid #e0a800; padding: .5rem .8rem; }
code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
${body}
${after}
</body>
</html>
`;
  return c.html(html, status, HEADERS);
}

/** Text made safe for HTML content and double- or single-quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
