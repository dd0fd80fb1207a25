/**
 * Handing the reading of Bun's PTY to another reader and back (pty/epoll-reader.ts), as the node
 * does for a lane: while given away, Bun's event loop reads nothing of the PTY (its data callback
 * sees none of the output) and the other reader gets every byte; taken back, Bun reads again,
 * including what waited meanwhile, and the program's end is still seen.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BunTerminalPty } from "../src/node/pty/bun-terminal";
import { mastersOf } from "../src/node/pty/master-fd";
import { waitFor } from "./helpers";

const linux = process.platform === "linux";
let pty: BunTerminalPty | undefined;
afterEach(() => {
  if (pty && !pty.isExited) pty.signal("SIGKILL");
  pty = undefined;
});

function spawnCat(): { pty: BunTerminalPty; seen: () => string } {
  const p = new BunTerminalPty({ command: ["cat"], cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm" }, cols: 80, rows: 24 });
  let text = "";
  p.onData((chunk) => {
    text += new TextDecoder().decode(chunk);
  });
  return { pty: p, seen: () => text };
}

/** `cat` on Bun's PTY, once Bun's loop read its first echo (so its read registration exists). */
async function readyCat(): Promise<{ pty: BunTerminalPty; seen: () => string }> {
  const cat = spawnCat();
  pty = cat.pty;
  cat.pty.write("ready\n");
  await waitFor(() => cat.seen() === "ready\r\nready\r\n", "Bun to read the first echo");
  return cat;
}

/** Bun's own reading descriptor of `p` (found at the spawn, or by its program's terminal). */
function readerFdOf(p: BunTerminalPty): number {
  const dup = p.dupReader();
  if (dup >= 0) closeSync(dup);
  return (p as unknown as { reader?: { readerFd(): number } }).reader?.readerFd() ?? -1;
}

/**
 * Gives `p`'s reading away, as an attach does: Bun's loop may be about to read in this very turn,
 * so it tries again on later ones.
 */
async function give(p: BunTerminalPty): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    if (p.giveReading()) return true;
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

/** Reads `fd` (non-blocking) until `want` has come, or the deadline. */
async function readUntil(fd: number, want: string, timeoutMs = 5000): Promise<string> {
  const buf = Buffer.alloc(4096);
  let text = "";
  const until = Date.now() + timeoutMs;
  while (!text.includes(want) && Date.now() < until) {
    try {
      const n = readSync(fd, buf);
      if (n > 0) text += buf.toString("utf8", 0, n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      await Bun.sleep(5);
    }
  }
  return text;
}

describe.if(linux)("Bun's PTY handed to another reader (epoll-reader)", () => {
  test("given away, the other reader gets the output and Bun none; taken back, Bun reads it all again", async () => {
    const { pty: p, seen } = spawnCat();
    pty = p;
    p.write("before\n");
    await waitFor(() => seen().includes("before\r\nbefore\r\n"), "Bun to read the first echo");

    expect(await give(p)).toBe(true);
    const fd = p.dupReader();
    expect(fd).toBeGreaterThanOrEqual(0);
    try {
      p.write("while-away\n");
      // All of it reaches the other reader: had Bun's loop read any, it would be missing here.
      const away = await readUntil(fd, "while-away\r\nwhile-away\r\n");
      expect(away).toBe("while-away\r\nwhile-away\r\n");
      expect(seen()).not.toContain("while-away");
      // Output that comes while given away and nobody reads waits in the PTY for Bun (below).
      p.write("waiting\n");
    } finally {
      closeSync(fd);
    }

    p.takeReading();
    await waitFor(() => seen().includes("waiting\r\nwaiting\r\n"), "Bun to read what waited");
    p.write("after\n");
    await waitFor(() => seen().includes("after\r\nafter\r\n"), "Bun to read again");
    expect(seen()).toBe("before\r\nbefore\r\nwaiting\r\nwaiting\r\nafter\r\nafter\r\n");

    const exited = new Promise((resolve) => p.onExit(resolve));
    p.signal("SIGTERM");
    expect(await exited).toEqual({ exitCode: 143 });
  });

  test("the program ends while the reading is given away: Bun's drain at the exit reads none of it, the other reader all, and the end waits for the reading to come back", async () => {
    const { pty: p, seen } = await readyCat();
    expect(await give(p)).toBe(true);
    const fd = p.dupReader();
    expect(fd).toBeGreaterThanOrEqual(0);
    let ended = false;
    const exit = new Promise((resolve) => p.onExit(resolve)).finally(() => {
      ended = true;
    });
    try {
      // Written before the program's exit, read by nobody until after it: Bun reads a PTY again
      // when its program exits, given away or not. Had that drain read any of it, the other
      // reader would miss it (as the lane thread did: a chunk of the last output then reached
      // the log out of order).
      p.write("last words\n");
      p.endInput();
      await waitFor(() => (p as unknown as { eof: boolean }).eof, "Bun to read an end at the exit");
      expect(ended).toBe(false);
      expect(await readUntil(fd, "last words\r\nlast words\r\n")).toBe("last words\r\nlast words\r\n");
      expect(seen()).toBe("ready\r\nready\r\n");
    } finally {
      closeSync(fd);
    }
    // As the lane thread does once it read the end.
    p.readerEnded();
    expect(await exit).toEqual({ exitCode: 0 });
    expect(seen()).toBe("ready\r\nready\r\n");
  });

  test("never given back (a background process keeps the terminal open): the other reader still gets the last output, and the session ends", async () => {
    const p = new BunTerminalPty({ command: ["sh", "-c", "read ready; read go; sleep 5 & echo bye-$((6*7))"], cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm" }, cols: 80, rows: 24 });
    pty = p;
    let text = "";
    p.onData((chunk) => {
      text += new TextDecoder().decode(chunk);
    });
    p.write("ready\n");
    await waitFor(() => text.includes("ready"), "Bun to read the first echo");
    expect(await give(p)).toBe(true);
    const fd = p.dupReader();
    expect(fd).toBeGreaterThanOrEqual(0);
    const exit = new Promise((resolve) => p.onExit(resolve));
    try {
      // The shell exits, and its background sleep keeps the terminal open, so the other reader
      // never reads its end and never gives the reading back.
      p.write("go\n");
      expect(await readUntil(fd, "bye-42")).toContain("bye-42");
      expect(await exit).toEqual({ exitCode: 0 });
    } finally {
      closeSync(fd);
    }
    expect(text).not.toContain("bye-42");
  });

  test("Bun closed its reader at the end before the reading came back: nothing is registered in its place", async () => {
    const { pty: p, seen } = await readyCat();
    const readerFd = readerFdOf(p);
    expect(readerFd).toBeGreaterThanOrEqual(0);
    expect(await give(p)).toBe(true);
    const exit = new Promise((resolve) => p.onExit(resolve));
    p.signal("SIGTERM");
    // A FIFO (epoll can watch it, unlike /dev/null), opened until one gets the reader's number.
    const fifo = join(mkdtempSync(join(tmpdir(), "cw-epoll-")), "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const opened: number[] = [];
    try {
      // Bun drains the PTY at the exit and closes its reader: the number is free for the next
      // file, taken here the moment it is (before anything else of this process can).
      await waitFor(() => {
        if (existsSync(`/proc/self/fd/${readerFd}`)) return false;
        while (!opened.includes(readerFd) && opened.length < 64) opened.push(openSync(fifo, "r+"));
        return true;
      }, "Bun to close its reader");
      expect(opened).toContain(readerFd);
      p.takeReading();
      // The file now behind that number is in no epoll set of this process.
      const watched = readdirSync("/proc/self/fd").flatMap((fd) => {
        try {
          if (readlinkSync(`/proc/self/fd/${fd}`) !== "anon_inode:[eventpoll]") return [];
          return [...readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").matchAll(/tfd:\s*(\d+)/g)].map((m) => Number(m[1]));
        } catch {
          return [];
        }
      });
      expect(watched).not.toContain(readerFd);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
    expect(await exit).toEqual({ exitCode: 143 });
  });

  test("a PTY's master descriptors are also found by its program's terminal (when the spawn could not tell them)", async () => {
    const { pty: p, seen } = await readyCat();
    const readerFd = readerFdOf(p);
    const found = mastersOf(p.pid);
    expect(found).toContain(readerFd);
    // Each of them is a master of this PTY: its echo can be read from a dup of any.
    for (const fd of found) expect(readlinkSync(`/proc/self/fd/${fd}`)).toMatch(/ptmx$/);
    expect(mastersOf(process.pid)).toEqual([]);
  });

  test("taking back what was never given, or after the end, changes nothing", async () => {
    const { pty: p, seen } = spawnCat();
    pty = p;
    p.takeReading();
    p.write("plain\n");
    await waitFor(() => seen().includes("plain\r\nplain\r\n"), "Bun to read as usual");
    const ended = new Promise((resolve) => p.onExit(resolve));
    p.signal("SIGKILL");
    await ended;
    expect(p.giveReading()).toBe(false);
    p.takeReading();
    expect(p.dupReader()).toBe(-1);
  });
});
