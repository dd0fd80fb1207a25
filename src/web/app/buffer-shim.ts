/**
 * The protocol's DetachKeys (shared with `cw attach`, where it is hot) works on Node's Buffer;
 * the browser gets Bun's Buffer polyfill for it. Imported before anything that uses it.
 */
import { Buffer } from "node:buffer";

(globalThis as { Buffer?: unknown }).Buffer ??= Buffer;
