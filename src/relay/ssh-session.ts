/**
 * One SSH session channel bridged to a node: a login shell or a command as a new session, or an
 * attachment to an existing one; its terminal (pty, window size, accepted environment).
 *
 * A session the gateway started is killed when the SSH client goes away first (a plain ssh login
 * leaves nothing behind); an attached session is only detached from and keeps running.
 *
 * Each SSH connection talks to its node as an ordinary client through `NodeHub.dial`.
 */
import type { ServerChannel, Session } from "ssh2";
import { NodeError } from "../client/errors";
import type { SessionRef } from "../protocol";
import { EOT, NODE_NAME_RE, SESSION_NAME_RE } from "../protocol/constants";
import { DetachKeys } from "../protocol/detach-keys";
import { ChannelIO } from "./ssh-channel";
import { describe, userMessage } from "./ssh-errors";
import type { SshGatewayOptions } from "./ssh-gateway";
import { ask, exitCodeOf, expect, lost, pump } from "./ssh-node";

/** Environment a client may pass (ssh's SendEnv): the locale, as sshd's usual AcceptEnv. */
const ACCEPT_ENV = /^(LANG|LC_[A-Z_]+)$/;
/** A detached attachment whose node does not confirm is closed after this. */
const DETACH_GRACE_MS = 2_000;
/** Bytes held after Ctrl+B (an unfinished escape sequence) go to the program after this pause. */
const PENDING_KEYS_MS = 50;
const DEFAULT_TERM = "xterm-256color";
const LOGIN_SHELL = ["sh", "-c", 'exec "${SHELL:-/bin/sh}" -l'];

type Deps = Pick<SshGatewayOptions, "hub" | "log">;

type Target = { node: string; session?: SessionRef };

/** `<node>` or `<node>:<session>`; an error message for anything else. */
export function parseSshUser(user: string): Target | { error: string } {
  const i = user.indexOf(":");
  const node = i < 0 ? user : user.slice(0, i);
  const ref = i < 0 ? undefined : user.slice(i + 1);
  const usage = "log in as <node> for a new shell or <node>:<session> to attach (ssh dev-1@relay, ssh 'dev-1:3'@relay)";
  if (!NODE_NAME_RE.test(node)) return { error: `${JSON.stringify(user)} does not name a node: ${usage}` };
  if (ref === undefined) return { node };
  if (/^\d+$/.test(ref) && Number(ref) > 0) return { node, session: Number(ref) };
  if (SESSION_NAME_RE.test(ref)) return { node, session: ref };
  return { error: `${JSON.stringify(ref)} is not a session id or name: ${usage}` };
}

interface Term {
  term: string;
  cols: number;
  rows: number;
  /** The client asked for a PTY (a terminal is at the other end). */
  pty: boolean;
  /** What the client passed with SendEnv and we accept (ACCEPT_ENV). */
  env: Record<string, string>;
}

function clampSize(cols: number, rows: number): { cols: number; rows: number } {
  return {
    cols: Number.isInteger(cols) && cols > 0 ? Math.min(cols, 2000) : 80,
    rows: Number.isInteger(rows) && rows > 0 ? Math.min(rows, 1000) : 24,
  };
}

/**
 * `connectionGone` registers what to do when the whole SSH connection closes: the channel's
 * close hooks run then even if ssh2 never closes the channel itself, so no shell outlives it.
 */
export function handleSession(session: Session, user: string, peer: string, deps: Deps, connectionGone: (f: () => void) => void = () => {}) {
  const term: Term = { term: DEFAULT_TERM, cols: 80, rows: 24, pty: false, env: {} };
  let io: ChannelIO | undefined;
  connectionGone(() => io?.gone());
  // No file transfer or other subsystems: a clean refusal, which ssh and sftp report.
  session.on("sftp", (_accept, reject) => {
    deps.log(`ssh ${peer}: refused the sftp subsystem (not offered)`);
    reject?.();
  });
  session.on("subsystem", (_accept, reject, info) => {
    deps.log(`ssh ${peer}: refused the ${JSON.stringify(info.name)} subsystem (not offered)`);
    reject?.();
  });
  session.on("env", (accept, reject, info) => {
    if (!ACCEPT_ENV.test(info.key) || io) return reject?.();
    term.env[info.key] = info.val;
    accept?.();
  });
  session.on("pty", (accept, _reject, info) => {
    Object.assign(term, { term: info.term || DEFAULT_TERM, pty: true }, clampSize(info.cols, info.rows));
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    Object.assign(term, clampSize(info.cols, info.rows));
    io?.onResize?.(term.cols, term.rows);
    accept?.();
  });
  const start = (channel: ServerChannel, command: string | undefined) => {
    io = new ChannelIO(channel, term.pty);
    const what = command === undefined ? "shell" : "exec";
    const run = async () => {
      const t = parseSshUser(user);
      if ("error" in t) return io!.fail(t.error);
      if (t.session !== undefined) {
        if (command !== undefined) return io!.fail(`${user} attaches to a session and runs no command`, `run commands as ssh ${t.node}@<relay> '<command>'`);
        return attachExisting(io!, t.node, t.session, term, deps, peer);
      }
      return runNew(io!, t.node, command === undefined ? LOGIN_SHELL : ["sh", "-c", command], term, deps, peer, what);
    };
    run().catch((e) => {
      deps.log(`ssh ${peer}: ${user} ${what}: ${describe(e)}`);
      io?.fail(...userMessage(e, user.split(":")[0]!));
    });
  };
  session.on("shell", (accept, reject) => {
    if (io) return reject?.();
    start(accept(), undefined);
  });
  session.on("exec", (accept, reject, info) => {
    if (io) return reject?.();
    start(accept(), info.command);
  });
}

/**
 * A new session (login shell or command). Its output comes from the session's log followed live
 * (`Logs` with follow, from the first byte): a short command may well have finished before an
 * `Attach` reaches the node, and the log still holds every byte it wrote, with no screen repaint
 * in front. Keys and window size go through an `Attach` (whose own output is dropped).
 */
async function runNew(io: ChannelIO, node: string, command: string[], term: Term, deps: Deps, peer: string, what: string) {
  const { hub, log } = deps;
  const launched = expect(
    // Without a PTY request the program gets pipes, as sshd gives it: its output arrives byte for
    // byte (no CR before each LF), input is not echoed, and the end of input is end of file.
    await ask(hub, node, {
      type: "Launch",
      command,
      env_from: "node",
      env: { ...term.env, ...(term.pty ? { TERM: term.term } : {}) },
      terminal: term.pty,
      tags: ["ssh"],
      cols: term.cols,
      rows: term.rows,
    }),
    "Launched",
  );
  const id = launched.session.id;
  log(`ssh ${peer}: ${what} is session ${id} on ${node}`);

  const output = hub.dial(node);
  const input = hub.dial(node);
  let finished = false;
  // The client went first: end the session (a hang-up, then SIGTERM, then SIGKILL on the node).
  io.onClose(() => {
    if (finished) return;
    finished = true;
    input.close();
    void ask(hub, node, { type: "Kill", id })
      .then(() => log(`ssh ${peer}: client left; session ${id} on ${node} killed`))
      .catch((e) => {
        if (!(e instanceof NodeError && e.code === "not_running")) log(`ssh ${peer}: killing session ${id} on ${node}: ${describe(e)}`);
      })
      .finally(() => output.close());
  });

  let attached = false;
  /** Input that came before the attachment: bytes, then maybe the end of input. */
  const early: (Uint8Array | "end")[] = [];
  // The end of input: end of file on pipes. A node that predates pipes ran the command on a PTY
  // (its session says nothing of `terminal`), where the end is a ^D.
  const onPipes = launched.session.terminal === false;
  const endInput = () => (onPipes ? input.sendControl({ type: "EndInput" }) : input.sendData(EOT));
  const deliver = (b: Uint8Array | "end") => (b === "end" ? endInput() : input.sendData(b));
  const toSession = (b: Uint8Array | "end") => (attached ? deliver(b) : early.push(b));
  // Without a terminal at the other end, the client's end of input is the program's too.
  io.input(toSession, term.pty ? undefined : () => toSession("end"));
  io.onResize = (cols, rows) => attached && input.sendControl({ type: "Resize", cols, rows });
  input.send({ type: "Attach", id, history: false, cols: term.cols, rows: term.rows });
  void (async () => {
    try {
      const r = await input.nextReply();
      if (r?.type !== "Attached") return;
      attached = true;
      for (const b of early.splice(0)) deliver(b);
      input.sendControl({ type: "Resize", cols: term.cols, rows: term.rows });
      while (await input.next()); // its output duplicates the log's: drop it
    } catch {
      // Already ended (not_running): no input to deliver.
    } finally {
      attached = false;
      early.length = 0;
      input.close();
    }
  })();

  try {
    output.send({ type: "Logs", id, follow: true });
    expect((await output.nextReply()) ?? lost(node), "LogData");
    const end = await pump(output, (b) => io.write(b));
    if (finished) return;
    finished = true;
    if (!end) return io.fail(`the connection to node ${node} was lost; session ${id} may still be running there`);
    const s = expect(end, "StreamEnd").session;
    if (!s) return io.fail(`session ${id} on ${node} ended without a status`);
    log(`ssh ${peer}: session ${id} on ${node} ended (${s.status}${s.exit_code !== null ? ` ${s.exit_code}` : ""})`);
    io.exit(exitCodeOf(s));
  } finally {
    finished = true;
    output.close();
    input.close();
  }
}

/** `ssh node:session@relay`: attach; the client leaving only detaches. */
async function attachExisting(io: ChannelIO, node: string, ref: SessionRef, term: Term, deps: Deps, peer: string) {
  const { hub, log } = deps;
  let size = { cols: term.cols, rows: term.rows };
  if (!term.pty) {
    // No terminal: keep the session's own size rather than force 80x24 on it.
    const s = expect(await ask(hub, node, { type: "GetStatus", id: ref, recent_lines: 0 }), "SessionStatus").session;
    size = { cols: s.cols, rows: s.rows };
  }
  const conn = hub.dial(node);
  let detaching = false;
  try {
    conn.send({ type: "Attach", id: ref, history: true, ...size });
    const first = expect((await conn.nextReply()) ?? lost(node), "Attached");
    const id = first.session.id;
    log(`ssh ${peer}: attached to session ${id} on ${node}`);
    // At a terminal, Ctrl+B d detaches, as in `cw attach`; without one, bytes pass as they are.
    const keys = term.pty ? new DetachKeys() : undefined;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    let byKeys = false;
    io.input((b) => {
      if (!keys) return conn.sendData(b);
      clearTimeout(quiet);
      const r = keys.feed(b);
      if (r.forward.length) conn.sendData(r.forward);
      if (r.detach && !detaching) {
        detaching = byKeys = true;
        conn.sendControl({ type: "Detach" });
        setTimeout(() => conn.close(), DETACH_GRACE_MS).unref?.();
      } else if (keys.holding) {
        // A lone Escape after Ctrl+B: not a detach; give it to the program once input pauses.
        quiet = setTimeout(() => conn.sendData(keys.flushPending()), PENDING_KEYS_MS);
      }
    });
    io.onResize = (cols, rows) => conn.sendControl({ type: "Resize", cols, rows });
    io.onClose(() => {
      detaching = true;
      conn.sendControl({ type: "Detach" });
      setTimeout(() => conn.close(), DETACH_GRACE_MS).unref?.();
    });
    if (term.pty && (term.cols !== size.cols || term.rows !== size.rows)) conn.sendControl({ type: "Resize", cols: term.cols, rows: term.rows });
    const end = await pump(conn, (b) => io.write(b));
    if (!end) {
      if (byKeys) io.exit(0);
      else if (!detaching) io.fail(`the connection to node ${node} was lost`);
      return;
    }
    const m = expect(end, "AttachEnded");
    log(`ssh ${peer}: ${detaching ? "client left; detached from" : "attachment ended for"} session ${id} on ${node} (${m.reason})`);
    if (m.reason === "detached") {
      if (byKeys) await io.write(new TextEncoder().encode(`\r\n[cw] detached from session ${id} on ${node}\r\n`));
      io.exit(0);
    }
    else if (m.reason === "node_stopping") io.fail(`node ${node} is stopping; session ${id} ended with it`);
    else io.exit(exitCodeOf(m.session));
  } finally {
    conn.close();
  }
}
