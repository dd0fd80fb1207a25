/** Messages between the node and its screen worker. */
import type { AgentName, AgentStateName } from "../../protocol/constants";

/** A session's output up to offset `end`. */
export interface ScreenData {
  id: number;
  bytes: Uint8Array;
  end: number;
  ack: boolean;
}

export type ToScreen =
  | { type: "open"; id: number; cols: number; rows: number; scrollback: number; pipes?: boolean }
  /**
   * Output of one or more sessions; `ack`: say how far it was parsed once it is (flow control).
   * With `states`: once the output is parsed, say what each of these sessions' agent screen
   * shows (agents/keeper.ts), all in one "states" reply to `req`.
   */
  | { type: "data"; items: ScreenData[]; states?: { id: number; agent: AgentName }[]; req?: number }
  /** Say how far this session's output was parsed (an ack), once what came before is. */
  | { type: "sync"; id: number }
  | { type: "reset"; id: number; bytes: Uint8Array; end: number }
  | { type: "resize"; id: number; cols: number; rows: number }
  /** The paint for a terminal of size `client` (paint.ts), with up to `scrollback` lines of history. */
  | { type: "snapshot"; id: number; req: number; scrollback: number; client?: { cols: number; rows: number } }
  /** What a detaching terminal of size `client` is sent (paint.ts: farewell). */
  | { type: "farewell"; id: number; req: number; client: { cols: number; rows: number } }
  | { type: "close"; id: number }
  | { type: "probe"; id: number; req: number }
  | { type: "text"; id: number; req: number }
  /** The last `count` lines of text the screen and its scrollback show (text.ts). */
  | { type: "lines"; id: number; req: number; count: number }
  /** A line stream (line-stream.ts): its own terminal, fed by a text view, not by the session. */
  | { type: "stream-open"; sid: number; cols: number; rows: number; pipes: boolean }
  | { type: "stream-feed"; sid: number; req: number; bytes: Uint8Array; settle: boolean; final?: boolean }
  | { type: "stream-close"; sid: number };

export type FromScreen =
  /** Bytes processed up to `offset` (flow control), when asked (ScreenData.ack, sync). */
  | { type: "ack"; id: number; offset: number }
  /** The emulator answers a terminal query (cursor position, device attributes, ...). */
  | { type: "reply"; id: number; data: string }
  | { type: "snapshot"; id: number; req: number; data: string; offset: number; alt: boolean }
  | { type: "farewell"; id: number; req: number; data: string; offset: number }
  /** What typing into the program needs to know: paste mode and the line the cursor is on. */
  | { type: "probe"; id: number; req: number; bracketedPaste: boolean; cursorLine: string; offset: number }
  /** The visible screen as plain text, one string per row. */
  | { type: "text"; id: number; req: number; lines: string[]; cursor: { x: number; y: number }; alt: boolean; offset: number }
  /** `full`: the scrollback is full, so older lines were dropped from the model. */
  | { type: "lines"; id: number; req: number; lines: string[]; full: boolean; offset: number }
  | { type: "stream-lines"; sid: number; req: number; lines: string[] }
  /** What the screens asked about in a "data" message show: the state each agent's profile reads there. */
  | { type: "states"; req: number; states: { id: number; state: AgentStateName | null }[] };
