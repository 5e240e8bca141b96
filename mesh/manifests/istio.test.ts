// Upstream Istio's install (issue 16): the charts, their order, and every value we set checked against
// the pinned charts' own values.yaml (copies in testdata/istio-<version>/, SOURCE.md says from where).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ISTIO_VERSION, istioCharts, istioNamespaceLabels } from "./istio.ts";

const dir = join(import.meta.dirname, "testdata", `istio-${ISTIO_VERSION}`);
const defaults = (chart: string) =>
  (parse(readFileSync(join(dir, chart, "values.yaml"), "utf8")) as { _internal_defaults_do_not_set: Record<string, unknown> })._internal_defaults_do_not_set;

/**
 * Values a chart reads although its values.yaml does not list them, and maps it passes through whole:
 * `profile` (read by templates/zzz_profile.yaml, testdata/istiod/zzz_profile.yaml.head); `meshConfig`
 * (Istio's MeshConfig, whose `trustDomain` istio's pkg/config/mesh/mesh.go defaults to cluster.local).
 */
const READ_BY_TEMPLATES = new Set(["profile"]);
const PASS_THROUGH: Record<string, string[][]> = { istiod: [["meshConfig", "trustDomain"]] };

/** Every leaf path of `values`. */
function leaves(values: unknown, path: string[] = []): string[][] {
  if (values && typeof values === "object" && !Array.isArray(values) && Object.keys(values).length > 0)
    return Object.entries(values).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path];
}

/** Whether the chart knows `path`: each key in its defaults, or inside a map whose default is empty ({}: free-form). */
function known(chart: string, path: string[]): boolean {
  if (READ_BY_TEMPLATES.has(path.join("."))) return true;
  if (PASS_THROUGH[chart]?.some((p) => p.join(".") === path.join("."))) return true;
  let node: unknown = defaults(chart);
  for (const key of path) {
    if (!node || typeof node !== "object") return false;
    const obj = node as Record<string, unknown>;
    if (!(key in obj)) return Object.keys(obj).length === 0;
    node = obj[key];
  }
  return true;
}

describe("Istio's charts (issue 16)", () => {
  const charts = istioCharts({ namespace: "istio-system", trustDomain: "example.org" });

  it("installs base, istiod, cni and ztunnel in Istio's documented order, pinned", () => {
    expect(charts.map((c) => [c.release, c.chart, c.version, c.after])).toEqual([
      ["istio-base", "base", ISTIO_VERSION, []],
      ["istiod", "istiod", ISTIO_VERSION, ["istio-base"]],
      ["istio-cni", "cni", ISTIO_VERSION, ["istiod"]],
      ["ztunnel", "ztunnel", ISTIO_VERSION, ["istio-cni"]],
    ]);
    expect(charts.every((c) => c.namespace === "istio-system")).toBe(true);
    expect(charts.find((c) => c.chart === "istiod")!.values).toMatchObject({ profile: "ambient", meshConfig: { trustDomain: "example.org" } });
  });

  it("sets only values the pinned charts know, and profiles they ship", () => {
    for (const c of charts) {
      for (const path of leaves(c.values)) {
        if (path.length === 0) continue;
        expect(known(c.chart, path), `${c.chart}: ${path.join(".")} is not a value of chart ${c.chart} ${ISTIO_VERSION}`).toBe(true);
      }
      const profile = c.values.profile as string | undefined;
      if (profile) expect(existsSync(join(dir, c.chart, `profile-${profile}.yaml`)), `${c.chart} ships profile-${profile}.yaml`).toBe(true);
    }
    // The check can fail: a misspelt value is caught.
    expect(known("ztunnel", ["resource", "requests", "cpu"])).toBe(false);
    expect(known("istiod", ["meshConfig", "trustDomian"])).toBe(false);
    expect(readFileSync(join(dir, "istiod", "zzz_profile.yaml.head"), "utf8")).toContain("($.Values).profile");
  });

  it("labels sidecar namespaces for Istio's injector; ambient enrolment is the same label as ours", () => {
    expect(istioNamespaceLabels("sidecar")).toEqual({ "istio-injection": "enabled" });
    expect(istioNamespaceLabels("ambient")).toEqual({});
  });
});
