/** Writing a file so that readers see the old content or the new one, never half of it. */
import { renameSync, writeFileSync } from "node:fs";

export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}
