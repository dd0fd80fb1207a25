/**
 * What a careful user hits when trying every command of the seed with the inputs people really
 * give (issue 15): programs that cannot start, values the schemas refuse, extra words, exit
 * codes by the README's table, Ctrl+C, a node that stops under a stream, and --json shapes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { capture, CwHome, waitFor } from "./helpers";

let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

describe("a program that cannot start", () => {
  test("not executable, a directory, an empty word: rc 1, the reason, no session", async () => {
    const script = cw.path("not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    mkdirSync(cw.path("a-dir"));
    const cases: [string, RegExp][] = [
      ["./not-executable.sh", /permission denied: \.\/not-executable\.sh is not executable/],
      ["./a-dir", /\.\/a-dir is a directory/],
      ["", /the command is empty/],
      ["no-such-program-xyz", /not found on the PATH/],
    ];
    for (const [program, reason] of cases) {
      const r = await cw.run(["launch", "--", program]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/could not start/);
      expect(r.stderr).toMatch(reason);
    }
    expect(await cw.list()).toEqual([]);
    // A program found on the PATH, and one by its path, still start.
    chmodSync(script, 0o755);
    const ok = await cw.launch(["./not-executable.sh"], ["--dir", cw.dir]);
    await cw.waitStatus(ok, "completed");
    expect(await cw.ok(["logs", String(ok)])).toContain("hi");
  });

  test("--dir of a file says it is not a directory; a missing one that it does not exist; both rc 1", async () => {
    const file = cw.path("a-file");
    writeFileSync(file, "x");
    const notDir = await cw.run(["launch", "--dir", file, "--", "true"]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toContain(`${file} is not a directory`);
    const missing = await cw.run(["launch", "--dir", cw.path("nowhere"), "--", "true"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("does not exist");
  });
});

