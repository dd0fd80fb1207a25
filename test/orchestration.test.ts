/** The supervisor pattern from a plain shell script: launch tagged workers, wait for all, read results. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CW, CwHome } from "./helpers";

let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

test("a supervisor script launches workers, waits for all, and collects their results", async () => {
  const script = `
set -euo pipefail
cw() { "${CW}" "$@"; }
for n in 1 2 3; do
  cw launch "worker-$n" --tag worker --tag batch-7 -- bash -c "sleep 0.$n; echo result-$n=$((n*n)); cw kv set result:$n $((n*n))" >/dev/null
done
cw wait --tag worker --condition all --timeout 60
cw list --tag worker --json > workers.json
for n in 1 2 3; do cw logs "worker-$n" --plain | grep result-; done
echo "kv: $(cw kv list result: --json | tr -d ' \\n')"
`;
  // The workers call cw too: put it on their PATH the way an installed cw would be.
  const path = `${CW.replace(/\/cw$/, "")}:${process.env.PATH}`;
  const p = Bun.spawn(["bash", "-c", script], { cwd: cw.dir, env: { ...cw.env, PATH: path }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  // Nothing on stderr but cw kv's word that this node's local store answered (there is no relay).
  const errors = err.split("\n").filter((l) => l && !l.startsWith("[cw] kv: this node's local store"));
  expect({ code, errors }).toEqual({ code: 0, errors: [] });
  expect(err).toContain("[cw] kv: this node's local store");
  expect(out).toContain("result-1=1");
  expect(out).toContain("result-2=4");
  expect(out).toContain("result-3=9");
  expect(out).toContain('"key":"result:3","value":"9"');
  const workers = JSON.parse(await Bun.file(cw.path("workers.json")).text());
  expect(workers.map((w: any) => [w.name, w.status, w.exit_code])).toEqual([
    ["worker-1", "completed", 0],
    ["worker-2", "completed", 0],
    ["worker-3", "completed", 0],
  ]);
});
