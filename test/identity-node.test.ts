/** The node's key file as the node meets it: made at first start, kept, and never silently replaced. */
import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { CwHome } from "./helpers";

let home: CwHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

test("an identity.pem that cannot be read stops the node with the reason; the file is left as it was", async () => {
  home = new CwHome();
  writeFileSync(home.path("identity.pem"), "not a key\n", { mode: 0o600 });
  const r = await home.run(["list"]);
  expect(r.code).not.toBe(0);
  expect(readFileSync(home.path("node.log"), "utf8")).toContain("cannot start: the node's identity (identity.pem)");
  expect(readFileSync(home.path("identity.pem"), "utf8")).toBe("not a key\n");
});
