/**
 * A private PostgreSQL cluster for tests: initdb in a temp dir, pg_ctl on a free loopback port,
 * trust authentication for the one user `cw`. PostgreSQL will not run as root, so as root the
 * cluster belongs to the `postgres` user (Debian's package makes it) and its commands run through
 * runuser. Each test asks for a fresh database; stop() ends the cluster and removes its files.
 */
import { SQL } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/** The newest PostgreSQL in Debian's layout, or pg_config's. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions[0]) return join(root, versions[0], "bin");
  const r = Bun.spawnSync(["pg_config", "--bindir"]);
  const dir = r.stdout.toString().trim();
  if (r.exitCode === 0 && existsSync(join(dir, "initdb"))) return dir;
  throw new Error("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)");
}

/** The postgres user's uid (-u) or gid (-g). */
function idOf(flag: "-u" | "-g"): number {
  const r = Bun.spawnSync(["id", flag, "postgres"]);
  if (r.exitCode !== 0) throw new Error("running as root needs a `postgres` user to own the test cluster (Debian's postgresql package makes it)");
  return Number(r.stdout.toString().trim());
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export class PgCluster {
  /** Made by start(), so a test file whose tests are all filtered out leaves nothing behind. */
  dir = "";
  port = 0;
  private bin = binDir();
  private asRoot = userInfo().uid === 0;
  private dbs = 0;

  /** Runs a PostgreSQL program as the user that owns the cluster. */
  private async pg(prog: string, ...args: string[]): Promise<void> {
    const cmd = [join(this.bin, prog), ...args];
    const p = Bun.spawn(this.asRoot ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd, { stdout: "pipe", stderr: "pipe", cwd: this.dir });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`${prog} ${args.join(" ")} exited ${code}: ${out}${err}`);
  }

  async start(): Promise<void> {
    if (!this.dir) this.dir = mkdtempSync(join(tmpdir(), "cw-pg-"));
    if (this.asRoot) chownSync(this.dir, idOf("-u"), idOf("-g"));
    if (!existsSync(join(this.dir, "data"))) await this.pg("initdb", "-D", join(this.dir, "data"), "-U", "cw", "--auth=trust", "-E", "UTF8", "--no-sync");
    if (!this.port) this.port = await freePort();
    // fsync off: a test cluster's data need not survive a power cut.
    await this.pg("pg_ctl", "-D", join(this.dir, "data"), "-l", join(this.dir, "log"), "-w", "-o", `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, "start");
  }

  /** Stops the server (fast: open connections are cut), keeping its files for start(). */
  async halt(): Promise<void> {
    await this.pg("pg_ctl", "-D", join(this.dir, "data"), "-w", "-m", "fast", "stop");
  }

  url(db = "postgres"): string {
    return `postgres://cw@127.0.0.1:${this.port}/${db}`;
  }

  /** A new, empty database; its URL. */
  async database(): Promise<string> {
    const name = `t${++this.dbs}`;
    const sql = new SQL(this.url());
    try {
      await sql.unsafe(`CREATE DATABASE ${name}`);
    } finally {
      await sql.close();
    }
    return this.url(name);
  }

  async stop(): Promise<void> {
    if (!this.dir) return;
    await this.pg("pg_ctl", "-D", join(this.dir, "data"), "-w", "-m", "immediate", "stop").catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
