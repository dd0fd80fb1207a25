/**
 * What the relay keeps, behind one interface with two engines: SQLite in the data directory
 * (sqlite.ts, the default for one relay) and PostgreSQL (postgres.ts, for several replicas on one
 * database). Every method is async because PostgreSQL is across a network; the SQLite engine
 * answers at once. Both pass one test suite (test/relay-store.test.ts), so a caller cannot tell
 * them apart. Tokens and device codes are kept only as SHA-256 hashes.
 */
import type { KVEntry } from "../../protocol";
import type { KvListOptions, KvPage, KvSetResult } from "../../store/kv-store";

export type { KvListOptions, KvPage, KvQuota, KvSetResult } from "../../store/kv-store";

export interface NodeRow {
  name: string;
  registered_at: string;
  last_seen_at: string | null;
}

export interface UserRow {
  name: string;
  created_at: string;
}

export type RedeemResult = { token: string } | { error: "name_taken" | "invalid_invite" };

export type DeviceCreateResult = { deviceCode: string; userCode: string; expiresAt: number } | { error: "too_many" | "too_many_from_source" };

/** What a poll finds. Every outcome but `pending` ends the request (a later poll finds `unknown`). */
export type DevicePollResult =
  | { status: "pending" }
  | { status: "authorized"; name: string; token: string; rotated: boolean; userToken: string }
  | { status: "denied"; name: string }
  | { status: "expired"; name: string }
  | { status: "unknown" };

/** A request still waiting for the operator, found by its user code. */
export interface DevicePending {
  name: string;
  expiresAt: number;
  /** Until it expires, by the store's clock. */
  secondsLeft: number;
  /** A node of that name is registered: approving rotates its token. */
  replaces: boolean;
}

/** Whether the store can serve: for /readyz. */
export type Readiness = { ok: true } | { ok: false; reason: string };

/**
 * The shared key-value store: namespaces, TTL, set-if-absent, compare-and-delete, paged
 * listing, a quota per namespace. An expired key is absent everywhere, even before it is swept.
 */
export interface RelayKv {
  set(ns: string, key: string, value: string, ttlS?: number, opts?: { ifAbsent?: boolean }): Promise<KvSetResult>;
  get(ns: string, key: string): Promise<KVEntry | null>;
  delete(ns: string, key: string, opts?: { ifValue?: string }): Promise<boolean>;
  page(ns: string, prefix: string, opts: KvListOptions): Promise<KvPage>;
  /** Removes expired keys (through an index on expiry, never a scan of the table); how many. */
  sweep(): Promise<number>;
}

export interface RelayStore {
  readonly engine: "sqlite" | "postgres";
  readonly kv: RelayKv;
  /** The web app's browser sign-ins and sign-in codes, shared by every replica. */
  readonly webSignIns: import("./web-signins").WebSignInRecords;

  /**
   * Registers `name` with a new token and returns it (the only time it exists in plaintext). An
   * existing name gets a new token, which invalidates the old one: that is rotation.
   */
  registerNode(name: string): Promise<string>;
  /**
   * Registers a new node with an invite, atomically: a taken name leaves the invite unused, and
   * two redeemers of the last use cannot both succeed. The invite is checked first: without a
   * valid one, nobody learns whether a name is registered.
   */
  redeemInvite(name: string, invite: string): Promise<RedeemResult>;
  hasNode(name: string): Promise<boolean>;
  nodeByTokenHash(hash: Uint8Array): Promise<NodeRow | null>;
  listNodes(): Promise<NodeRow[]>;
  /** Removes a node, and the grants to and from it (a later node of that name starts with none). */
  deleteNode(name: string): Promise<boolean>;
  touchNode(name: string): Promise<void>;

  // User tokens: what people and their CLIs act with (the admin token aside). A node's token
  // lets it be that node; a user token reaches every node.

  /** A new token for user `name` (replacing any it had), returned this once. */
  issueUserToken(name: string): Promise<string>;
  userByTokenHash(hash: Uint8Array): Promise<{ name: string } | null>;
  listUsers(): Promise<UserRow[]>;
  deleteUser(name: string): Promise<boolean>;

  // Grants: node `from` (its token) may reach node `to`; "*" is every node.

  grant(from: string, to: string): Promise<void>;
  revokeGrant(from: string, to: string): Promise<boolean>;
  /** What each node may reach, by node name. */
  grants(): Promise<Map<string, string[]>>;
  mayReach(from: string, to: string): Promise<boolean>;

  /** A new invite good for `uses` registrations within `ttlS` seconds; the plaintext is returned once. */
  createInvite(uses: number, ttlS: number): Promise<{ invite: string; expiresAt: Date }>;
  /** Uses up one use of an invite; false when it is unknown, expired or used up. */
  consumeInvite(invite: string): Promise<boolean>;

  /**
   * A new device request for `name`, valid for `ttlS` seconds, unless `limits.total` unexpired
   * requests exist, or `limits.perSource` from `source`. `userCode` is the canonical 8 characters.
   */
  createDeviceRequest(name: string, ttlS: number, limits: { total: number; perSource: number }, source: string): Promise<DeviceCreateResult>;
  /** The unexpired, undecided request with this (canonical) user code. */
  pendingDeviceRequest(userCode: string): Promise<DevicePending | null>;
  /** The operator's decision on an unexpired, undecided request; null when there is none. Final. */
  decideDeviceRequest(userCode: string, approve: boolean): Promise<DevicePending | null>;
  /**
   * A node's poll. Once approved, registers the node (rotating the token of an existing one),
   * issues its user's token, and forgets the request, atomically: the tokens go to one poll only.
   */
  pollDeviceRequest(deviceCode: string): Promise<DevicePollResult>;

  adminTokenHash(): Promise<Buffer | null>;
  setAdminTokenHash(hash: Uint8Array): Promise<void>;

  /** Reachable and migrated (a cheap query, bounded in time). */
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
}

/** The database cannot be reached (down, restarting, network): the relay answers 503, not 500. */
export class StoreUnavailableError extends Error {
  readonly hint = "the relay's database is unreachable; try again in a moment (GET /readyz says when it is back)";
}

export interface RelayStoreOptions {
  /** The clock, in ms since the epoch; tests move it to expire invites without waiting. */
  now?: () => number;
  /** Each KV namespace's quota; the default is KV_NS_MAX_KEYS and KV_NS_MAX_BYTES. */
  kvQuota?: import("../../store/kv-store").KvQuota;
}
