/**
 * cw kill ends every process a session started (also daemons in sessions of their own that
 * ignore SIGTERM); what a program leaves running when it ends is shown; a chosen signal is sent
 * alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CwHome, running, waitFor } from "./helpers";

let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

/** A shell line that starts a daemon in a session of its own, deaf to SIGTERM and SIGHUP, which writes its pid to `pidFile` once it runs. */
const daemon = (pidFile: string) => `setsid bash -c 'trap "" TERM HUP; echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; exec sleep 600' &`;

const pidIn = (file: string) =>
  waitFor(() => {
    try {
      return Number(readFileSync(file, "utf8").trim()) || undefined;
    } catch {
      return undefined;
    }
  }, `${file} written`);

/** Ends a pid left over by a failed test. */
function reap(pid: number | undefined) {
  try {
    if (pid) process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

describe("cw kill ends everything a session started", () => {
  test("a daemon that left the program's process group and ignores SIGTERM is ended with it", async () => {
    const pidFile = cw.path("daemon.pid");
    const id = await cw.launch(["bash", "-c", `${daemon(pidFile)} echo started; sleep 600`]);
    const pid = await pidIn(pidFile);
    try {
      expect(running(pid)).toBe(true);
      await cw.ok(["kill", String(id)]);
      // cw kill answers once everything is gone.
      expect(running(pid)).toBe(false);
      expect((await cw.session(id)).status).toBe("killed");
    } finally {
      reap(pid);
    }
  });

  test("a daemon that cleared its environment and was reparented to init is still known from the session's tree", async () => {
    const pidFile = cw.path("bare.pid");
    // Its parent lives 3 s (the node records running sessions' trees every second), then leaves
    // it to init: nothing but that record ties it to the session.
    const id = await cw.launch(["bash", "-c", `(env -i ${daemon(pidFile)} until [ -s ${pidFile} ]; do sleep 0.05; done; sleep 3); echo orphaned; sleep 600`]);
    const pid = await pidIn(pidFile);
    try {
      await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("orphaned"), "the daemon's parent to exit", 15_000);
      expect(readFileSync(`/proc/${pid}/environ`, "latin1")).not.toContain("CW_SESSION");
      await cw.ok(["kill", String(id)]);
      expect(running(pid)).toBe(false);
    } finally {
      reap(pid);
    }
  });

  test("what a program leaves running when it ends is shown in status; cw kill ends it", async () => {
    const pidFile = cw.path("left.pid");
    const id = await cw.launch(["bash", "-c", `${daemon(pidFile)} while [ ! -s ${pidFile} ]; do sleep 0.05; done; exit 0`]);
    const pid = await pidIn(pidFile);
    try {
      await cw.waitStatus(id, "completed");
      const st = JSON.parse(await cw.ok(["status", String(id), "--json"]));
      expect(st.survivors).toEqual([pid]);
      expect(await cw.ok(["status", String(id)])).toContain(`completed (0), pid ${pid} still runs`);
      expect(await cw.ok(["kill", String(id), "--json"])).toContain(String(id));
      expect(running(pid)).toBe(false);
      const after = await cw.session(id);
      expect(after).toMatchObject({ status: "completed", exit_code: 0, survivors: [] });
      // Nothing left to end: as for any finished session.
      expect((await cw.run(["kill", String(id)])).code).toBe(1);
    } finally {
      reap(pid);
    }
  });

  test("after a node crash, what a lost session started is still shown and cw kill ends it", async () => {
    const home = new CwHome();
    const pidFile = home.path("lost.pid");
    let pid: number | undefined;
    try {
      const id = await home.launch(["bash", "-c", `${daemon(pidFile)} exec sleep 600`]);
      pid = await pidIn(pidFile);
      process.kill(home.nodePid()!, "SIGKILL");
      // The next command starts a new node, which finds the session lost (its program died of the
      // hangup when the node's end closed its terminal) and the daemon still there.
      const s = await waitFor(async () => {
        const x = await home.session(id);
        return x.status === "lost" ? x : undefined;
      }, "the session to be lost");
      expect(s).toMatchObject({ orphan_pid: null, survivors: [pid] });
      expect(await home.ok(["status", String(id)])).toContain(`lost, pid ${pid} still runs`);
      await home.ok(["kill", String(id)]);
      expect(running(pid)).toBe(false);
      expect(await home.session(id)).toMatchObject({ status: "lost", survivors: [] });
    } finally {
      reap(pid);
      await home.cleanup();
    }
  });

  test("a node started from inside a session (so carrying its key) never ends itself or its other sessions for it", async () => {
    const home = new CwHome();
    const pidFile = home.path("inner.pid");
    let pid: number | undefined;
    try {
      const lost = await home.launch(["bash", "-c", `${daemon(pidFile)} exec sleep 600`]);
      pid = await pidIn(pidFile);
      const key = JSON.parse(readFileSync(home.path("sessions.json"), "utf8")).sessions[0].key as string;
      process.kill(home.nodePid()!, "SIGKILL");
      // The next node starts from a shell of that session: with its CW_SESSION_KEY.
      const other = Number((await home.ok(["launch", "--", "sleep", "600"], { env: { CW_SESSION_KEY: key } })).trim());
      const node = home.nodePid()!;
      expect(readFileSync(`/proc/${node}/environ`, "latin1")).toContain(`CW_SESSION_KEY=${key}`);
      await home.ok(["kill", String(lost)]);
      expect(running(pid)).toBe(false);
      expect(running(node)).toBe(true);
      expect((await home.session(other)).status).toBe("running");
    } finally {
      reap(pid);
      await home.cleanup();
    }
  });

  test("--signal SIGINT is sent alone (no SIGHUP, no SIGTERM), and SIGKILL follows after the grace period", async () => {
    // Its own Ctrl+C handling shows; a hangup (not trapped) would end it at once.
    const id = await cw.launch(["bash", "-c", 'for s in INT TERM; do trap "echo got-$s" $s; done; echo ready; while :; do sleep 0.1; done']);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("ready"), "traps set");
    const t0 = Date.now();
    await cw.ok(["kill", String(id), "--signal", "SIGINT"]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    const log = await cw.ok(["logs", String(id)]);
    expect(log).toContain("got-INT");
    expect(log).not.toContain("Hangup");
    expect(log).not.toContain("got-TERM");
    expect((await cw.session(id)).status).toBe("killed");
  });
});
