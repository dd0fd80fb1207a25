/**
 * The Helm chart (deploy/helm/codewire-relay) without helm, which Debian does not package: its
 * Chart.yaml and values.yaml parse; every template is YAML once its template actions are taken
 * out (both branches of each `if` kept), which catches indentation slips in what is static;
 * every `.Values.x.y` a template reads exists in values.yaml; every CW_* variable it sets is one
 * `cw relay` reads; the probes name the relay's /healthz and /readyz; and the README's
 * `helm install` lines set only values that exist. Rendering is not tested here.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const chart = resolve(import.meta.dir, "../deploy/helm/codewire-relay");
const read = (...p: string[]) => readFileSync(join(chart, ...p), "utf8");
const values = Bun.YAML.parse(read("values.yaml")) as Record<string, unknown>;

function templates(dir = join(chart, "templates")): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? templates(join(dir, e.name)) : e.name.endsWith(".yaml") ? [{ path: join(dir, e.name), text: readFileSync(join(dir, e.name), "utf8") }] : [],
  );
}

/** The template with its actions taken out: action-only lines dropped, inline ones a word. */
function staticPart(text: string): string {
  return text
    .split("\n")
    .filter((l) => !/^\s*\{\{-?[^}]*-?\}\}\s*$/.test(l))
    .map((l) => l.replace(/\{\{-?.*?-?\}\}/g, "x"))
    .join("\n");
}

function has(obj: unknown, path: string[]): boolean {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== "object" || !(k in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return true;
}

describe("the Helm chart", () => {
  test("Chart.yaml and values.yaml parse; the chart is apiVersion v2 named codewire-relay", () => {
    const meta = Bun.YAML.parse(read("Chart.yaml")) as { apiVersion: string; name: string; version: string };
    expect(meta).toMatchObject({ apiVersion: "v2", name: "codewire-relay" });
    expect(meta.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(values.replicaCount).toBe(1);
  });

  test("every template is YAML outside its actions", () => {
    const all = templates();
    expect(all.map((t) => t.path.slice(chart.length + 1)).sort()).toEqual(["templates/deployment.yaml", "templates/ingress.yaml", "templates/pvc.yaml", "templates/secret.yaml", "templates/service.yaml", "templates/tests/answers.yaml"]);
    for (const t of all) {
      const doc = Bun.YAML.parse(staticPart(t.text)) as { apiVersion?: string; kind?: string };
      expect([t.path, typeof doc?.apiVersion, typeof doc?.kind]).toEqual([t.path, "string", "string"]);
    }
  });

  test("every value a template reads is in values.yaml", () => {
    const text = [...templates().map((t) => t.text), read("templates", "_helpers.tpl")].join("\n");
    const paths = [...new Set([...text.matchAll(/\.Values((?:\.\w+)+)/g)].map((m) => m[1]!.slice(1)))];
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !has(values, p.split(".")))).toEqual([]);
  });

  test("the variables it sets are ones cw relay reads; the probes are /healthz and /readyz", () => {
    const deployment = read("templates", "deployment.yaml");
    const relayCommand = readFileSync(resolve(import.meta.dir, "../src/cli/commands/relay.ts"), "utf8");
    const set = [...deployment.matchAll(/- name: (CW_\w+)/g)].map((m) => m[1]!);
    expect(set.sort()).toEqual(["CW_AUTH_TOKEN", "CW_BASE_URL", "CW_DATABASE_URL", "CW_NODE_ACCESS", "CW_REPLICA_SECRET", "CW_REPLICA_URL"]);
    for (const v of set) expect(relayCommand).toContain(`process.env.${v}`);
    const probes = Bun.YAML.parse(staticPart(deployment)) as any;
    const c = probes.spec.template.spec.containers[0];
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(read("templates", "_helpers.tpl")).toContain('fail "replicaCount > 1 needs PostgreSQL');
  });

  test("the README's helm install lines set only values the chart has", () => {
    const readme = readFileSync(resolve(import.meta.dir, "../README.md"), "utf8");
    const lines = readme.split("\n").filter((l) => /^\s*helm (install|upgrade)/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toContain("deploy/helm/codewire-relay");
      for (const m of line.matchAll(/--set(?:-string)? ([\w.]+)=/g)) expect([m[1], has(values, m[1]!.split("."))]).toEqual([m[1], true]);
    }
  });
});
