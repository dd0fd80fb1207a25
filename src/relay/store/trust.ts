/**
 * What the relay keeps for handles, node cards and peer mail (src/relay/trust, routes/handles,
 * mail, node-cards, federation), behind one interface with two engines like the rest of the
 * relay's state: SQLite in `<data dir>/trust.db` (sqlite-trust.ts) and PostgreSQL beside the
 * other tables (postgres-trust.ts, migration 4), where every replica sees the same handles, the
 * same mailboxes and the same outbound queue. Envelopes are kept as the JSON they arrived as;
 * their bodies are ciphertext the relay cannot open.
 */
import type { RelayStore } from "./interface";

export interface HandleRow {
  name: string;
  node: string;
  fingerprint: string;
  card: string;
  claimed_at: string;
}

export interface OutboundRow {
  seq: number;
  host: string;
  /** The sending handle's name on this relay (whom a notice goes to). */
  sender: string;
  envelope: string;
  created_at: number;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

/**
 * The mailbox of a node's own envelopes (from its owner's other nodes) is kept under this name
 * beside the handles' ones: a handle's name has no colon, so the two cannot collide.
 */
export function nodeMailbox(node: string): string {
  return `node:${node}`;
}

export interface RelayTrust {
  /**
   * Whether other processes (replicas) write here too: then a node waiting for mail cannot rely
   * on this process's doorbell alone, and looks again now and then.
   */
  readonly shared: boolean;

  handle(name: string): Promise<HandleRow | null>;
  /**
   * First come: a name held by another key is refused; the same key may claim it again (a new
   * card, or from another node of this relay). Returns whether it was a re-claim.
   */
  claim(name: string, node: string, fingerprint: string, card: string): Promise<{ reclaimed: boolean } | { error: "taken" }>;
  handlesOf(node: string): Promise<string[]>;

  /**
   * A node's own card: its key, and that it takes sealed envelopes from its owner's other nodes.
   * Only the node itself (its token) sets it; a new key replaces the old.
   */
  setNodeCard(node: string, fingerprint: string, card: string): Promise<void>;
  nodeCard(node: string): Promise<{ node: string; fingerprint: string; card: string } | null>;

  /** Envelopes waiting in a mailbox (a handle's name, or nodeMailbox(node)). */
  mailCount(box: string): Promise<number>;
  putMail(box: string, envelope: string): Promise<number>;
  /** The oldest waiting envelopes of a node's handles and its own mailbox, in the order they arrived. */
  mailFor(node: string, limit?: number): Promise<{ seq: number; envelope: string }[]>;
  /** Deletes envelopes the node has taken (only its own). */
  ack(node: string, seqs: number[]): Promise<number>;
  /** Forgets envelopes older than `ms` (their recipients' nodes would refuse them as stale). */
  expire(ms: number): Promise<void>;

  // Envelopes for other relays that could not be handed over yet (trust/outbound.ts), oldest
  // first per host: a host's envelopes leave in the order they came, or its recipients refuse
  // the overtaken ones as replays.
  queueOutbound(host: string, sender: string, envelope: string, now?: number): Promise<number>;
  hasOutbound(host: string): Promise<boolean>;
  /** Each host's oldest waiting envelope. */
  outboundHeads(): Promise<OutboundRow[]>;
  /**
   * Takes the turn of a head whose next_at is still `expectNextAt`, moving it to `leaseUntil`:
   * of replicas trying at once, exactly one gets true and hands it over.
   */
  claimOutbound(seq: number, expectNextAt: number, leaseUntil: number): Promise<boolean>;
  deferOutbound(seq: number, nextAt: number, error: string): Promise<void>;
  dropOutbound(seq: number): Promise<void>;

  /** A notice for the node of handle `name` (an envelope it sent that was given up on). */
  putNotice(name: string, notice: string): Promise<void>;
  noticesFor(node: string, limit?: number): Promise<{ seq: number; notice: string }[]>;
  ackNotices(node: string, seqs: number[]): Promise<number>;

  close(): Promise<void>;
}

/**
 * The trust store that goes with the relay's store: on PostgreSQL the same database (shared by
 * replicas), on SQLite trust.db in the data dir.
 */
export async function openTrust(store: RelayStore, dataDir: string): Promise<RelayTrust> {
  if (store.engine === "postgres") {
    const { PostgresTrust } = await import("./postgres-trust");
    return new PostgresTrust((store as import("./postgres").PostgresRelayStore).client);
  }
  const { SqliteTrust } = await import("./sqlite-trust");
  return new SqliteTrust(dataDir);
}
