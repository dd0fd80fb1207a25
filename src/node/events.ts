/**
 * Session events: appended to each session's events.jsonl and fanned out to live subscribers.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { EventType, SessionEvent } from "../protocol";

export interface EventFilter {
  sessionId?: number;
  tags?: string[];
  types?: string[];
}

export interface EventSource {
  id: number;
  name?: string;
  tags: string[];
  dir: string;
}

type Listener = (e: SessionEvent) => void;

export function matches(e: SessionEvent, f: EventFilter): boolean {
  if (f.sessionId !== undefined && e.session_id !== f.sessionId) return false;
  if (f.types?.length && !f.types.includes(e.type)) return false;
  if (f.tags?.length && !f.tags.some((t) => e.tags?.includes(t))) return false;
  return true;
}

export class EventBus {
  private seq = 0;
  private listeners = new Set<{ filter: EventFilter; fn: Listener }>();

  constructor(private readonly log: (msg: string) => void) {}

  emit(src: EventSource, type: EventType, data: Record<string, unknown>): SessionEvent {
    const e: SessionEvent = {
      seq: ++this.seq,
      type,
      session_id: src.id,
      ...(src.name ? { session_name: src.name } : {}),
      tags: src.tags,
      at: new Date().toISOString(),
      data,
    };
    try {
      appendFileSync(join(src.dir, "events.jsonl"), `${JSON.stringify(e)}\n`, { mode: 0o600 });
    } catch (err) {
      this.log(`events: could not append for session ${src.id}: ${(err as Error).message}`);
    }
    for (const l of this.listeners) {
      if (matches(e, l.filter)) {
        try {
          l.fn(e);
        } catch (err) {
          this.log(`events: listener failed: ${(err as Error).message}`);
        }
      }
    }
    return e;
  }

  subscribe(filter: EventFilter, fn: Listener): () => void {
    const entry = { filter, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }
}
