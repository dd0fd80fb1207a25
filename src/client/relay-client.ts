/**
 * The relay's HTTP API from this machine: registering a node (`cw setup`), listing nodes
 * (`cw nodes`) and the shared KV (used by the node for `cw kv` once it has a relay). Replies are
 * checked against the schemas in protocol/relay-api.ts; errors carry the relay's own hint.
 */
import type { z } from "zod";
import type { KVEntry } from "../protocol";
import {
  CreateUserResponse,
  DeleteUserResponse,
  DeviceAuthorizeResponse,
  GrantResponse,
  ListUsersResponse,
  DevicePollResponse,
  KvDeleteResponse,
  KvGetResponse,
  type KvListEntry,
  KvListResponse,
  KvPutResponse,
  ListNodesResponse,
  RegisterNodeResponse,
  relayKvPath,
  RelayError,
} from "../protocol/relay-api";
import { NodeError, NodeUnavailableError } from "./errors";

const TIMEOUT_MS = 10_000;

export class RelayClient {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  private async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    opts: { token?: string | null; notFoundOk?: boolean; preconditionOk?: boolean; raw?: { body: string; headers: Record<string, string> } } = {},
  ): Promise<z.infer<S> | null> {
    const token = opts.token === null ? undefined : (opts.token ?? this.token);
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...opts.raw?.headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : opts.raw ? { body: opts.raw.body } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = (e as Error).name === "TimeoutError" ? "no answer" : code === "ECONNREFUSED" ? "connection refused" : (e as Error).message;
      throw new NodeUnavailableError(`cannot reach the relay at ${this.url}: ${why}`, "check the URL and that `cw relay` runs there");
    }
    if ((res.status === 404 && opts.notFoundOk) || (res.status === 412 && opts.preconditionOk)) return null;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NodeUnavailableError(`${this.url} answered ${method} ${path} with HTTP ${res.status}, not JSON`, "is this a codewire relay? try <url>/healthz");
    }
    if (!res.ok) {
      const e = RelayError.safeParse(json);
      if (e.success) throw new NodeError(e.data.error === "not_found" ? "not_found" : e.data.error, `relay: ${e.data.message}`, e.data.hint);
      throw new NodeUnavailableError(`the relay answered HTTP ${res.status}`, "see the relay's log");
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new NodeUnavailableError(`the relay's reply to ${method} ${path} is not what this cw expects`, "the relay and this cw may be of different versions");
    return parsed.data;
  }

  /**
   * Registers `name`; with an invite no admin token is needed. Returns the node's token, and with
   * the admin token a user token for this machine's CLI too.
   */
  async register(name: string, invite?: string): Promise<z.infer<typeof RegisterNodeResponse>> {
    return (await this.request("POST", "/api/v1/nodes", RegisterNodeResponse, { name, ...(invite ? { invite } : { user_token: true }) }, invite ? { token: null } : {}))!;
  }

  // The operator's (admin token): user tokens and grants.

  async users() {
    return (await this.request("GET", "/api/v1/users", ListUsersResponse))!.users;
  }

  async createUser(name: string) {
    return (await this.request("POST", "/api/v1/users", CreateUserResponse, { name }))!;
  }

  async deleteUser(name: string): Promise<void> {
    await this.request("DELETE", `/api/v1/users/${encodeURIComponent(name)}`, DeleteUserResponse);
  }

  /** Lets node `from` reach node `to` ("*": every node), or with `allow` false takes that back. */
  async grant(from: string, to: string, allow: boolean) {
    return (await this.request(allow ? "PUT" : "DELETE", `/api/v1/nodes/${encodeURIComponent(from)}/grants/${encodeURIComponent(to)}`, GrantResponse))!;
  }

  /** Starts the device flow: the operator approves `name` in a browser (`verification_uri`). */
  async deviceAuthorize(name: string): Promise<z.infer<typeof DeviceAuthorizeResponse>> {
    return (await this.request("POST", "/api/v1/device/authorize", DeviceAuthorizeResponse, { name }, { token: null }))!;
  }

  /** Pending until the operator decides; then the node's token, once. Denied/expired throw. */
  async devicePoll(deviceCode: string): Promise<z.infer<typeof DevicePollResponse>> {
    return (await this.request("POST", "/api/v1/device/poll", DevicePollResponse, { device_code: deviceCode }, { token: null }))!;
  }

  async nodes() {
    return (await this.request("GET", "/api/v1/nodes", ListNodesResponse))!.nodes;
  }

  /** Stores a value; with `ifAbsent`, false (and nothing stored) when the key is already set. */
  async kvSet(ns: string, key: string, value: string, ttlS?: number, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    // The value travels as the raw body, so its limit is the same number of bytes as locally.
    const headers: Record<string, string> = { "Content-Type": "text/plain; charset=utf-8", ...(ttlS !== undefined ? { "X-TTL": String(ttlS) } : {}), ...(opts.ifAbsent ? { "If-None-Match": "*" } : {}) };
    return (await this.request("PUT", relayKvPath(ns, key), KvPutResponse, undefined, { raw: { body: value, headers }, preconditionOk: true })) !== null;
  }

  async kvGet(ns: string, key: string): Promise<KVEntry | null> {
    return (await this.request("GET", relayKvPath(ns, key), KvGetResponse, undefined, { notFoundOk: true }))?.entry ?? null;
  }

  /** One page of a listing; `values` asks for the values too. */
  async kvPage(ns: string, prefix: string, opts: { values: boolean; limit?: number; cursor?: string }): Promise<{ entries: KvListEntry[]; next_cursor: string | null }> {
    const q = new URLSearchParams({ prefix, values: opts.values ? "1" : "0", ...(opts.limit ? { limit: String(opts.limit) } : {}), ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}) });
    return (await this.request("GET", `${relayKvPath(ns)}?${q}`, KvListResponse))!;
  }

  /** Every entry under `prefix`, with values, page by page. */
  async kvList(ns: string, prefix: string): Promise<KVEntry[]> {
    const all: KVEntry[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.kvPage(ns, prefix, { values: true, limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
      for (const e of page.entries) all.push({ ...e, value: e.value ?? "" });
      if (page.next_cursor === null) return all;
      cursor = page.next_cursor;
    }
  }

  /** Deletes a key; with `ifValue`, only while it holds exactly that value. */
  async kvDelete(ns: string, key: string, opts: { ifValue?: string } = {}): Promise<boolean> {
    return (await this.request("DELETE", relayKvPath(ns, key), KvDeleteResponse, opts.ifValue !== undefined ? { if_value: opts.ifValue } : undefined))!.deleted;
  }
}
