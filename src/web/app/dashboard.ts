/**
 * The dashboard: every node (one for `cw web`, the relay's all), online or not and when last
 * seen; per node its sessions, a form to launch one, and for each session attach, view
 * read-only, log and kill. Refreshed every few seconds while shown.
 */
import { describeStatus } from "../../protocol/constants";
import type { SessionInfo } from "../../protocol/session";
import { KilledReply, LaunchedReply, NodesReply, SessionsReply, type WebNode } from "../api";
import { age, h, show } from "./dom";
import { api, ApiFailure } from "./http";

const REFRESH_MS = 3000;

export function dashboard(mode: "local" | "relay", header: HTMLElement): () => void {
  const nodesBox = h("div", { id: "nodes" });
  const notice = h("p", { class: "notice", role: "status" });
  show(header, h("main", {}, notice, nodesBox));
  const sections = new Map<string, ReturnType<typeof nodeSection>>();
  let stopped = false;

  const refresh = async () => {
    try {
      const { nodes } = await api("GET", "/web/nodes", NodesReply);
      for (const n of nodes) {
        let s = sections.get(n.name);
        if (!s) {
          s = nodeSection(n, mode, (msg) => say(notice, msg), () => void refresh());
          sections.set(n.name, s);
          nodesBox.append(s.el);
        }
        await s.update(n);
      }
      if (nodes.length === 0) nodesBox.replaceChildren(h("p", {}, "No nodes yet. Register one with `cw setup <relay-url>` on its machine."));
    } catch (e) {
      // Signed out (in another tab) or expired: back to the sign-in page.
      if (e instanceof ApiFailure && e.status === 401) return location.reload();
      say(notice, e);
    }
  };
  void refresh();
  const timer = setInterval(() => {
    if (!stopped) void refresh();
  }, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function nodeSection(node: WebNode, mode: "local" | "relay", say: (m: unknown) => void, refresh: () => void) {
  const state = h("span", { class: "node-state" });
  const rows = h("tbody");
  const table = h(
    "table",
    { class: "sessions" },
    h("thead", {}, h("tr", {}, ...["ID", "Name", "Command", "Status", "Exit", "Age", "Tags", "Agent", ""].map((t) => h("th", {}, t)))),
    rows,
  );
  const el = h("section", { class: "node", "data-node": node.name }, h("h2", {}, mode === "relay" ? node.name : "This machine", " ", state), launchForm(node.name, say, refresh), h("div", { class: "table-wrap" }, table));
  return {
    el,
    async update(n: WebNode) {
      state.textContent = n.online ? "online" : `offline${n.last_seen_at ? `, last seen ${age(n.last_seen_at)} ago` : ""}`;
      state.className = `node-state ${n.online ? "online" : "offline"}`;
      if (!n.online) {
        rows.replaceChildren(h("tr", {}, h("td", { colspan: "9" }, "The node is offline.")));
        return;
      }
      const { sessions } = await api("GET", `/web/nodes/${encodeURIComponent(n.name)}/sessions`, SessionsReply);
      rows.replaceChildren(...sessions.sort((a, b) => b.id - a.id).map((s) => sessionRow(n.name, s, say, refresh)));
      if (sessions.length === 0) rows.append(h("tr", {}, h("td", { colspan: "9" }, "No sessions.")));
    },
  };
}

function sessionRow(node: string, s: SessionInfo, say: (m: unknown) => void, refresh: () => void): HTMLTableRowElement {
  const running = s.status === "running";
  const target = `${encodeURIComponent(node)}/${s.id}`;
  const kill = h("button", { type: "button", class: "danger" }, "Kill");
  kill.addEventListener("click", async () => {
    try {
      await api("POST", `/web/nodes/${encodeURIComponent(node)}/sessions/${s.id}/kill`, KilledReply, {});
      refresh();
    } catch (e) {
      say(e);
    }
  });
  const actions = h(
    "td",
    { class: "actions" },
    running && h("a", { href: `#/t/${target}`, class: "button" }, "Attach"),
    running && h("a", { href: `#/t/${target}?view`, class: "button" }, "View"),
    h("a", { href: `#/log/${target}`, class: "button" }, "Log"),
    running && kill,
  );
  // Each cell names its column (data-label): on a phone the rows are shown as cards.
  const cell = (label: string, text: string, cls?: string) => h("td", { "data-label": label, ...(cls ? { class: cls } : {}) }, text);
  return h(
    "tr",
    { "data-session": String(s.id) },
    cell("ID", String(s.id)),
    cell("Name", s.name ?? "", "name"),
    cell("Command", s.prompt, "command"),
    cell("Status", describeStatus(s), `status ${s.status}`),
    cell("Exit", s.exit_code === null ? "" : String(s.exit_code)),
    cell("Age", age(s.created_at)),
    cell("Tags", s.tags.join(", ")),
    cell("Agent", agentState(s), "agent"),
    actions,
  );
}

/** The agent's state, once nodes report it (`agent_state` on a session); empty before. */
function agentState(s: SessionInfo): string {
  const v = (s as { agent_state?: unknown }).agent_state;
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "object" && typeof (v as { state?: unknown }).state === "string") return (v as { state: string }).state;
  return JSON.stringify(v);
}

/** A command line as a program and its arguments: words as they are, or through sh when it has shell syntax. */
export function commandOf(line: string): string[] {
  const t = line.trim();
  return /[|&;<>()$`\\"'*?~{}[\]#=]/.test(t) ? ["sh", "-c", t] : t.split(/\s+/);
}

function launchForm(node: string, say: (m: unknown) => void, refresh: () => void): HTMLFormElement {
  const command = h("input", { name: "command", placeholder: "command, e.g. claude", required: true, autocomplete: "off", autocapitalize: "off", spellcheck: "false" });
  const name = h("input", { name: "name", placeholder: "name (optional)", autocomplete: "off", autocapitalize: "off", maxlength: "32" });
  const tags = h("input", { name: "tags", placeholder: "tags (optional)", autocomplete: "off", autocapitalize: "off" });
  const form = h("form", { class: "launch" }, command, name, tags, h("button", { type: "submit" }, "Launch"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const { session } = await api("POST", `/web/nodes/${encodeURIComponent(node)}/sessions`, LaunchedReply, {
        command: commandOf(command.value),
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
        tags: tags.value.split(/[\s,]+/).filter(Boolean),
      });
      command.value = name.value = tags.value = "";
      say(`Launched session ${session.id}${session.name ? ` (${session.name})` : ""}.`);
      refresh();
    } catch (e) {
      say(e);
    }
  });
  return form;
}

export function say(el: HTMLElement, m: unknown): void {
  if (m instanceof ApiFailure) {
    el.textContent = `${m.message}. ${m.hint}`;
    el.className = "notice error";
  } else if (m instanceof Error) {
    el.textContent = m.message;
    el.className = "notice error";
  } else {
    el.textContent = String(m);
    el.className = "notice";
  }
}
