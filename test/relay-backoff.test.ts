/** The node's reconnect backoff to its relay has jitter: retries spread, within [half, all]. */
import { expect, test } from "bun:test";
import { jittered } from "../src/node/relay-agent";

test("retry waits are spread between half and all of the backoff", () => {
  expect(jittered(8000, () => 0)).toBe(4000);
  expect(jittered(8000, () => 1)).toBe(8000);
  const waits = Array.from({ length: 200 }, () => jittered(8000));
  for (const w of waits) {
    expect(w).toBeGreaterThanOrEqual(4000);
    expect(w).toBeLessThanOrEqual(8000);
  }
  // 200 nodes cut off at once do not all come back in the same instant.
  expect(new Set(waits).size).toBeGreaterThan(100);
});
