/**
 * What the node costs while its sessions do what agents do most of the time: redraw a spinner.
 * Measured as the node's CPU-seconds (all threads, /proc/<pid>/stat) over a window, which other
 * work on the machine does not inflate, on both terminal backends. Issue 14: ten 10 Hz spinners
 * cost the node half a core on bun-pty, whose poller spun after every chunk of output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpuShare, SPINNER } from "../scripts/bench/cpu";
import { CwHome, waitFor } from "./helpers";

const SESSIONS = 4;
const WINDOW_S = 3;
/** A share of one core; tmux's server takes ~0.7% for four such sessions on the 2-core test VM. */
const LIMIT = 0.1;

for (const backend of ["bun-pty", "bun"] as const) {
  describe(`node CPU on ${backend}`, () => {
    let cw: CwHome;
    beforeAll(async () => {
      cw = new CwHome({ CODEWIRE_PTY: backend });
      expect((await cw.run(["start"])).code).toBe(0);
    });
    afterAll(async () => {
      await cw.cleanup();
    });

    test(`${SESSIONS} sessions redrawing a spinner at 10 Hz, nobody attached: under ${LIMIT * 100}% of a core`, async () => {
      const ids: number[] = [];
      for (let i = 0; i < SESSIONS; i++) ids.push(await cw.launch(SPINNER));
      for (const id of ids) await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("working"), `session ${id} to spin`);
      const share = await cpuShare([cw.nodePid()!], WINDOW_S);
      expect(share).toBeLessThan(LIMIT);
    }, 30_000);
  });
}
