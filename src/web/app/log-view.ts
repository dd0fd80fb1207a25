/** A session's log as plain text (the server strips escape sequences); shown as text, never markup. */
import { h, show } from "./dom";
import { text } from "./http";
import { say } from "./dashboard";

export function logView(node: string, id: number, header: HTMLElement): () => void {
  const pre = h("pre", { class: "log" }, "loading…");
  const notice = h("p", { class: "notice", role: "status" });
  show(header, h("main", {}, h("p", {}, h("a", { href: "#/", class: "button" }, "Back"), ` Log of ${node === "local" ? "" : `${node}:`}${id} (last 1000 lines)`), notice, pre));
  text(`/web/nodes/${encodeURIComponent(node)}/sessions/${id}/log?tail=1000`).then(
    (t) => {
      pre.textContent = t;
    },
    (e) => {
      pre.textContent = "";
      say(notice, e);
    },
  );
  return () => {};
}
