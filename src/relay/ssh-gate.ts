/**
 * The SSH gateway's front door: it owns the listening socket and admits each TCP connection to
 * ssh2 (`Server.injectSocket`) only within limits, because ssh2 itself hears of a connection
 * only once it has sent its banner. Until a connection has logged in it is "pending":
 *
 * - it is closed after a short grace (sshd's LoginGraceTime), banner or not;
 * - at most `maxPending` may wait at once, and `maxPendingPerAddress` from one address (sshd's
 *   MaxStartups, PerSourceMaxStartups); past either a new one is closed at once.
 *
 * So silent or slow-talking connections cannot use up the relay's descriptors: logged-in
 * connections are not counted (each holds a token or an authorized key).
 */
import { createServer, type Server, type Socket } from "node:net";

export interface GateLimits {
  graceMs: number;
  maxPending: number;
  maxPendingPerAddress: number;
}

interface Pending {
  address: string;
  socket: Socket;
  timer: ReturnType<typeof setTimeout>;
}

export class SshGate {
  readonly server: Server;
  private pending = new Map<string, Pending>();
  private perAddress = new Map<string, number>();
  /** When each address was last logged as refused: once a minute is enough. */
  private refusedLogged = new Map<string, number>();

  constructor(
    private readonly limits: GateLimits,
    private readonly log: (msg: string) => void,
    admit: (socket: Socket) => void,
  ) {
    this.server = createServer((socket) => {
      // A reset or an error on a socket nobody reads yet must not reach the process.
      socket.on("error", () => {});
      const address = socket.remoteAddress ?? "unknown";
      const id = key(address, socket.remotePort);
      const mine = this.perAddress.get(address) ?? 0;
      if (this.pending.size >= limits.maxPending || mine >= limits.maxPendingPerAddress) {
        this.refused(address, mine >= limits.maxPendingPerAddress ? `${mine} connections from it are not logged in yet` : `${this.pending.size} connections are not logged in yet`);
        socket.destroy();
        return;
      }
      const timer = setTimeout(() => {
        this.log(`ssh ${id}: no login within ${limits.graceMs / 1000}s; disconnecting`);
        socket.destroy();
      }, limits.graceMs);
      this.pending.set(id, { address, socket, timer });
      this.perAddress.set(address, mine + 1);
      socket.once("close", () => this.release(id));
      admit(socket);
    });
  }

  /** The connection from `address:port` logged in: no longer pending, no deadline. */
  loggedIn(address: string | undefined, port: number | undefined): void {
    this.release(key(address ?? "unknown", port));
  }

  private release(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    const n = (this.perAddress.get(p.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(p.address, n);
    else this.perAddress.delete(p.address);
  }

  private refused(address: string, why: string): void {
    const now = Date.now();
    if (now - (this.refusedLogged.get(address) ?? 0) < 60_000) return;
    this.refusedLogged.set(address, now);
    if (this.refusedLogged.size > 10_000) this.refusedLogged.clear();
    this.log(`ssh: refusing connections from ${address}: ${why} (logged once a minute)`);
  }

  close(): void {
    this.server.close();
    for (const p of [...this.pending.values()]) {
      clearTimeout(p.timer);
      p.socket.destroy();
    }
    this.pending.clear();
    this.perAddress.clear();
  }
}

function key(address: string, port: number | undefined): string {
  return `${address}:${port ?? 0}`;
}
