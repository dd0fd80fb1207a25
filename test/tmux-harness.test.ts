/**
 * The tmux harness itself: keys and captures go to the window the test selected. tmux reads a
 * bare `-t t` as a window of the current session whose name starts with "t" before it reads it
 * as the session "t", and a window tmux has just created is named "tmux" (its process has not
 * run its command yet) until automatic-rename catches up, half a second later at most.
 */
import { afterEach, expect, test } from "bun:test";
import { Tmux } from "./helpers";

let tmux: Tmux;
afterEach(async () => {
  await tmux?.kill();
});

test("keys and captures reach the selected window, whatever another window is called", async () => {
  tmux = new Tmux();
  await tmux.start("cat", {});
  await tmux.cmd("new-window", "-t", "t:", "cat");
  // What a fresh window can be called for a moment: a name that starts with the session's.
  await tmux.cmd("rename-window", "-t", "t:1", "tmux");
  await tmux.cmd("select-window", "-t", "t:0");
  await tmux.type("typed-into-0");
  const screen = await tmux.waitScreen((s) => s.includes("typed-into-0"), "the keys in the selected window");
  expect(screen).toContain("typed-into-0");
  expect(await tmux.cmd("capture-pane", "-p", "-t", "t:0")).toContain("typed-into-0");
  expect(await tmux.cmd("capture-pane", "-p", "-t", "t:1")).not.toContain("typed-into-0");
});
