/**
 * The screen worker's life (node/screen/screens.ts): it starts with the first screen, stops once
 * nothing has needed it for a while (a node whose sessions all ended gives its thread and heap
 * back), and the next screen starts another that works as the first did. Real worker threads,
 * in this process; the idle period is shortened to keep the test quick.
 */
import { expect, test } from "bun:test";
import { Screens } from "../src/node/screen/screens";
import { waitFor, workerThreads } from "./helpers";

const IDLE_MS = 150;
const enc = new TextEncoder();

/** Opens screen `id`, prints `text` into it and returns what its screen shows. */
async function show(screens: Screens, id: number, text: string): Promise<string> {
  const bytes = enc.encode(`${text}\r\n`);
  screens.open(
    id,
    80,
    24,
    () => ({ bytes, end: bytes.length }),
    () => {},
  );
  screens.feed(id, bytes, bytes.length);
  const t = await screens.text(id);
  return t?.lines.join("\n") ?? "";
}

test("the screen worker stops once no screen needs it, and the next screen starts another", async () => {
  const logs: string[] = [];
  const screens = new Screens(1000, (m) => logs.push(m), IDLE_MS);
  try {
    expect(screens.workerRunning).toBe(false);
    const before = workerThreads();
    expect(await show(screens, 1, "first screen")).toContain("first screen");
    expect(screens.workerRunning).toBe(true);
    const running = workerThreads();
    expect(running).toBe(before + 1);

    screens.close(1);
    await waitFor(() => !screens.workerRunning, "the idle worker to stop", 5_000);
    expect(logs.join("\n")).toContain("screen worker stopped");
    // Its thread is gone, not only our handle on it.
    await waitFor(() => workerThreads() === before, "the worker's thread to exit", 5_000);

    expect(await show(screens, 2, "second screen")).toContain("second screen");
    expect(screens.workerRunning).toBe(true);
  } finally {
    screens.terminate();
  }
});

test("an open text stream keeps the worker; closing it lets the worker stop", async () => {
  const screens = new Screens(1000, () => {}, IDLE_MS);
  try {
    expect(await show(screens, 1, "a screen")).toContain("a screen");
    const stream = screens.openStream(80, 24, false);
    screens.close(1);
    // Three idle periods with the stream open: an observation window, not a synchronisation.
    await Bun.sleep(3 * IDLE_MS);
    expect(screens.workerRunning).toBe(true);
    // The stream still works in the same worker.
    expect(await stream.feed(enc.encode("streamed line\r\n"), true)).toContain("streamed line");

    stream.close();
    stream.close(); // a second close changes nothing (the count of open streams stays right)
    await waitFor(() => !screens.workerRunning, "the worker to stop after the stream closed", 5_000);
  } finally {
    screens.terminate();
  }
});
