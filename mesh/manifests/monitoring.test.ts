import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { proxyUsageQueries } from "./benchmark.ts";
import { meshDashboard, PANELS } from "./dashboard.ts";
import { DASHBOARD_LABEL, kubePrometheusStackValues, meshMonitoringObjects } from "./monitoring.ts";
import { validateObject } from "./validate.ts";
import { expectGolden } from "../testing/expect.ts";

describe("mesh monitoring objects", () => {
  const objects = meshMonitoringObjects({ meshNamespace: "istio-system" });

  it("are schema-valid PodMonitors for control plane, ztunnel, waypoint and sidecars, plus the dashboard ConfigMap", () => {
    for (const o of objects) validateObject(o);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "PodMonitor/ambient-lab-control-plane",
      "PodMonitor/ambient-lab-ztunnel",
      "PodMonitor/ambient-lab-waypoint",
      "PodMonitor/ambient-lab-sidecar",
      "ConfigMap/ambient-lab-dashboard",
    ]);
    const ztunnel = objects[1]!.spec as { selector: unknown; namespaceSelector: unknown; podMetricsEndpoints: { port: string }[] };
    expect(ztunnel.selector).toEqual({ matchLabels: { app: "ztunnel" } });
    expect(ztunnel.namespaceSelector).toEqual({ matchNames: ["istio-system"] });
    expect(ztunnel.podMetricsEndpoints[0]!.port).toBe("http-metrics");
  });

  it("the dashboard ConfigMap carries the label Grafana's sidecar watches and parses as a dashboard", () => {
    const cm = objects[4]! as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(cm.metadata.labels[DASHBOARD_LABEL]).toBe("1");
    const values = kubePrometheusStackValues() as { grafana: { sidecar: { dashboards: { label: string; labelValue: string } } } };
    expect(values.grafana.sidecar.dashboards).toMatchObject({ label: DASHBOARD_LABEL, labelValue: "1" });
    const dash = JSON.parse(cm.data["ambient-lab-mesh.json"]!) as { uid: string; panels: { title: string; targets: unknown[] }[] };
    expect(dash.uid).toBe("ambient-lab-mesh");
    expect(dash.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining(["TCP bytes by source and destination", "Policy denials", "Proxy CPU", "Proxy memory", "Connections"]),
    );
  });

  it("the dashboard matches its golden copy", () => {
    const golden = join(import.meta.dirname, "testdata", "dashboard.json");
    const text = `${JSON.stringify(meshDashboard(), null, 2)}\n`;
    expectGolden(golden, text);
  });

  it("every panel query is valid PromQL (promtool parses it as a recording rule)", () => {
    const dir = mkdtempSync(join(tmpdir(), "al-promql-"));
    try {
      // The benchmark's proxy usage queries too.
      const usage = Object.values(proxyUsageQueries("65s")).map((expr) => ({ expr }));
      const rules = [...PANELS.flatMap((p) => p.targets), ...usage].map((t, i) => ({ record: `ambient_lab:panel_${i}`, expr: t.expr }));
      writeFileSync(join(dir, "rules.yaml"), stringify({ groups: [{ name: "dashboard", rules }] }));
      const out = execFileSync("promtool", ["check", "rules", join(dir, "rules.yaml")], { encoding: "utf8" });
      expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
      // The check can fail: a broken expression is reported.
      writeFileSync(join(dir, "bad.yaml"), stringify({ groups: [{ name: "bad", rules: [{ record: "x", expr: "sum by (a (rate(x[1m]))" }] }] }));
      expect(() => execFileSync("promtool", ["check", "rules", join(dir, "bad.yaml")], { stdio: "pipe" })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
