/**
 * A full disk: the node keeps running its sessions and serving clients, says clearly what
 * could not be stored, and loses nothing it already had. Uses a small tmpfs as the data dir,
 * so it needs root (CI runs as root); elsewhere it is skipped, and says so.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capture, CwHome, waitFor } from "./helpers";

const isRoot = process.getuid?.() === 0;
let mountpoint = "";
let cw: CwHome;

beforeAll(async () => {
  if (!isRoot) return;
  mountpoint = mkdtempSync(join(tmpdir(), "cw-full-"));
  const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mountpoint]);
  if (m.exitCode !== 0) throw new Error(`mount tmpfs failed: ${m.stderr}`);
  cw = new CwHome({ CODEWIRE_HOME: mountpoint });
});

afterAll(async () => {
  if (!isRoot) return;
  await cw.run(["stop"]).catch(() => {});
  const pid = cw.nodePid();
  if (pid) try { process.kill(pid, "SIGKILL"); } catch {}
  Bun.spawnSync(["umount", "-l", mountpoint]);
  rmSync(mountpoint, { recursive: true, force: true });
  rmSync(cw.dir, { recursive: true, force: true });
});

test.skipIf(!isRoot)("with the disk full, sessions run on, clients are served and told what failed", async () => {
  const early = await cw.launch(["bash", "-c", "echo stored-before-full"], ["early"]);
  await cw.waitStatus(early, "completed");
  const flood = await cw.launch(["bash", "-c", "echo follower-ready; read x; for i in $(seq 1 3000); do echo flood-line-$i; done; read y; echo end-$y"], ["flood"]);
  // A follower that is live before the disk fills (one that joins later reads history from
  // the log, which cannot hold what the full disk refused).
  const follower = cw.spawn(["logs", "flood", "--follow"]);
  const followed = capture(follower.stdout);
  await waitFor(() => followed.text.includes("follower-ready"), "the follower to be live");
  try {
    writeFileSync(join(mountpoint, "filler"), Buffer.alloc(8 * 1024 * 1024));
  } catch {
    /* ENOSPC is the point */
  }
  await cw.ok(["send", "flood", "go"]);
  await waitFor(() => followed.text.includes("flood-line-3000"), "the follower to see all output live");
  // A new session cannot be recorded: refused with a clear error, nothing half-made.
  const refused = await cw.run(["launch", "--", "true"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("disk is full");
  expect(refused.stderr).toContain(mountpoint);
  // Messages cannot be stored: the sender is told plainly.
  const m = await cw.run(["msg", "flood", "hello"]);
  expect(m.code).toBe(1);
  expect(m.stderr).toContain("disk is full");
  // The node still serves, and what it stored before is intact.
  expect((await cw.ok(["logs", "early"])).trim()).toBe("stored-before-full");
  // Space comes back: the running session goes on, logging and messaging work again.
  rmSync(join(mountpoint, "filler"), { force: true });
  await cw.ok(["send", "flood", "fine"]);
  await cw.waitStatus(flood, "completed");
  await followed.done;
  const lines = followed.text.split(/\r?\n/).filter((l) => l.startsWith("flood-line-"));
  expect(lines.length).toBe(3000);
  expect(followed.text).toContain("end-fine");
  expect(await cw.ok(["logs", "flood", "--tail", "1"])).toContain("end-fine");
  const after = await cw.launch(["sleep", "30"], ["after"]);
  expect((await cw.run(["msg", "after", "works again"])).code).toBe(0);
  await cw.ok(["kill", String(after)]);
});
