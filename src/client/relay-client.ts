/**
 * The relay's HTTP API from this machine: registering a node (`cw setup`), listing nodes
 * (`cw nodes`) and the shared KV (used by the node for `cw kv` once it has a relay). Replies are
 * checked against the schemas in protocol/relay-api.ts; errors carry the relay's own hint.
 */
import type { z } from "zod";
import type { KVEntry } from "../protocol";
import {
  DeviceAuthorizeResponse,
  DevicePollResponse,
  KvDeleteResponse,
  KvGetResponse,
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

  private async request<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, opts: { token?: string | null; notFoundOk?: boolean } = {}): Promise<z.infer<S> | null> {
    const token = opts.token === null ? undefined : (opts.token ?? this.token);
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = (e as Error).name === "TimeoutError" ? "no answer" : code === "ECONNREFUSED" ? "connection refused" : (e as Error).message;
      throw new NodeUnavailableError(`cannot reach the relay at ${this.url}: ${why}`, "check the URL and that `cw relay` runs there");
    }
    if (res.status === 404 && opts.notFoundOk) return null;
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

  /** Registers `name`; with an invite no admin token is needed. Returns the node's token. */
  async register(name: string, invite?: string): Promise<z.infer<typeof RegisterNodeResponse>> {
    return (await this.request("POST", "/api/v1/nodes", RegisterNodeResponse, { name, ...(invite ? { invite } : {}) }, invite ? { token: null } : {}))!;
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

  async kvSet(ns: string, key: string, value: string, ttlS?: number): Promise<void> {
    await this.request("PUT", relayKvPath(ns, key), KvPutResponse, { value, ...(ttlS ? { ttl_s: ttlS } : {}) });
  }

  async kvGet(ns: string, key: string): Promise<KVEntry | null> {
    return (await this.request("GET", relayKvPath(ns, key), KvGetResponse, undefined, { notFoundOk: true }))?.entry ?? null;
  }

  async kvList(ns: string, prefix: string): Promise<KVEntry[]> {
    return (await this.request("GET", `${relayKvPath(ns)}?prefix=${encodeURIComponent(prefix)}`, KvListResponse))!.entries;
  }

  async kvDelete(ns: string, key: string): Promise<boolean> {
    return (await this.request("DELETE", relayKvPath(ns, key), KvDeleteResponse))!.deleted;
  }
}
