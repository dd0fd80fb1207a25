/**
 * Noticing a dead network path on a WebSocket this side opened. After a laptop sleeps or changes
 * networks, the old TCP connection is dead but nothing says so until something is written; so we
 * ping (Bun.serve answers pings by itself) and count anything heard, pong or message, as alive.
 * Silent for three periods: `onDead`, once.
 */

/** A period from the environment (tests shorten it), else `dflt`. */
export function periodFromEnv(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return v > 0 ? v : dflt;
}

export function keepAlive(ws: WebSocket, periodMs: number, onDead: (silentMs: number) => void): { stop(): void } {
  let heard = Date.now();
  const alive = () => (heard = Date.now());
  ws.addEventListener("pong", alive);
  ws.addEventListener("message", alive);
  const timer = setInterval(() => {
    if (Date.now() - heard > 3 * periodMs) {
      clearInterval(timer);
      onDead(3 * periodMs);
      return;
    }
    (ws as unknown as { ping(): void }).ping();
  }, periodMs);
  return { stop: () => clearInterval(timer) };
}
