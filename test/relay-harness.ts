/** In-process harness for the relay's Hono app, shared by the relay API and device-flow tests. */
import { afterEach, beforeEach, expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RelayError } from "../src/protocol/relay-api";
import { createRelayApp, type RelayAppDeps } from "../src/relay/app";
import { ensureAdminToken, RelayAuth } from "../src/relay/auth";
import type { RelayStore } from "../src/relay/store";
import { SqliteRelayStore } from "../src/relay/store/sqlite";
import type { KvQuota } from "../src/store/kv-store";

/** Stands in for the WebSocket hub, so tests can set who is connected and see who was dropped. */
export class FakeHub {
  connected = new Set<string>();
  disconnects: string[] = [];
  isConnected(name: string): boolean {
    return this.connected.has(name);
  }
  disconnect(name: string): void {
    this.disconnects.push(name);
    this.connected.delete(name);
  }
  /** Rotation ends the connection too (with its own close code), and is recorded as such. */
  rotations: string[] = [];
  rotated(name: string): void {
    this.rotations.push(name);
    this.disconnect(name);
  }
}

export interface Call {
  token?: string;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The caller's address as Bun.serve would give it; by default each call has its own. */
  ip?: string;
}

export interface Reply {
  status: number;
  json: any;
}

export interface OpenOptions extends Partial<RelayAppDeps> {
  /** What RelayAuth gets as CW_AUTH_TOKEN. */
  envToken?: string;
  /** The KV quota of each namespace. */
  kvQuota?: KvQuota;
}

/** One relay per test; the fields are replaced before each, so read them through the harness, not once. */
export class RelayHarness {
  dir = "";
  store!: RelayStore;
  app!: ReturnType<typeof createRelayApp>;
  hub = new FakeHub();
  admin = "";
  #now = 0;
  #calls = 0;

  /** The store's clock, in ms: tests move it rather than wait. */
  get clock(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  /** Opens the store in `dir` and builds the app on it; to reopen, close the store first (SQLite closes at once). */
  open(opts: OpenOptions = {}): void {
    const { envToken, kvQuota, ...extra } = opts;
    const store = new SqliteRelayStore(this.dir, { now: () => this.#now, ...(kvQuota ? { kvQuota } : {}) });
    this.store = store;
    this.app = createRelayApp({ store, kv: store.kv, auth: new RelayAuth(store, envToken), hub: this.hub, version: "9.9.9-test", ...extra });
  }

  /** An arrow, so a test file can take `call` out of the harness. Every API reply is JSON, errors included. */
  call = async (method: string, path: string, opts: Call = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    const ip = opts.ip ?? `198.18.${(this.#calls >> 8) & 255}.${this.#calls++ & 255}`;
    const res = await this.app.request(path, { method, headers, body }, { ip });
    expect(res.headers.get("content-type")).toContain("application/json");
    return { status: res.status, json: await res.json() };
  };

  /** Before each test: a fresh temp dir, store, hub and admin token; after it, all removed. */
  static use(prefix: string): RelayHarness {
    const h = new RelayHarness();
    beforeEach(async () => {
      h.dir = mkdtempSync(join(tmpdir(), prefix));
      h.#now = Date.now();
      h.hub = new FakeHub();
      h.open();
      h.admin = (await ensureAdminToken(h.store)).generated!;
    });
    afterEach(async () => {
      await h.store.close();
      rmSync(h.dir, { recursive: true, force: true });
    });
    return h;
  }
}

/** Expects an error response with the documented shape. */
export function expectError(r: Reply, status: number, code: string): RelayError {
  expect(r.status).toBe(status);
  const e = RelayError.parse(r.json);
  expect(e.error).toBe(code as RelayError["error"]);
  expect(e.hint.length).toBeGreaterThan(10);
  return e;
}
