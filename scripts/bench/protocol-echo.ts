/**
 * Keystroke echo measured at the protocol: one key at a time (35-85 ms apart, as a person types)
 * sent as a data frame on an attached connection, timed until a data frame carrying it comes back.
 * remote.ts and relay-replicas.ts time their paths (socket, WebSocket, relay, replicas) with it.
 */
import type { NodeConnection } from "../../src/client/connection";

/** Latencies (ms) of `samples` keys after `warmup` unmeasured ones, on an attached `conn`. */
export async function protocolEcho(conn: NodeConnection, warmup: number, samples: number): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    await Bun.sleep(35 + Math.random() * 50);
    const key = 120 + (i % 3);
    const t0 = performance.now();
    conn.sendData(new Uint8Array([key]));
    for (;;) {
      const f = await conn.next();
      if (!f) throw new Error("the connection closed");
      if (f.kind === "data" && f.bytes.includes(key)) break;
    }
    if (i >= warmup) lat.push(performance.now() - t0);
  }
  return lat;
}
