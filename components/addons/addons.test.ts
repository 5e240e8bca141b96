import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, settle } from "../testing/mocks.ts";

const registered = installMocks();

let mod: typeof import("./index.ts");
beforeAll(async () => {
  mod = await import("./index.ts");
});

describe("add-ons", () => {
  it("install cert-manager and kube-prometheus-stack from pinned charts, scraping the mesh", async () => {
    new mod.CertManager("cm", { version: "v1.18.2" });
    const mon = new mod.Monitoring("mon", { version: "75.15.1", meshNamespace: "istio-system" });
    await new Promise<void>((r) => mon.namespace.apply(() => r()));
    await settle();
    const charts = registered.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart");
    expect(charts.map((c) => [c.inputs.chart, c.inputs.version])).toEqual([
      ["cert-manager", "v1.18.2"],
      ["kube-prometheus-stack", "75.15.1"],
    ]);
    const values = charts[1]!.inputs.values as { fullnameOverride: string; prometheus: { prometheusSpec: Record<string, unknown> } };
    // Our PodMonitors carry no Helm release label, so the chart must select every monitor.
    expect(values.fullnameOverride).toBe("kps");
    expect(values.prometheus.prometheusSpec).toMatchObject({ podMonitorSelectorNilUsesHelmValues: false });
    const monitors = registered.filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor");
    expect(monitors.map((m) => (m.inputs.metadata as { name: string }).name).sort()).toEqual([
      "ambient-lab-control-plane",
      "ambient-lab-sidecar",
      "ambient-lab-waypoint",
      "ambient-lab-ztunnel",
    ]);
    const dashboard = registered.find(
      (r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.inputs.metadata as { name: string }).name === "ambient-lab-dashboard",
    );
    expect((dashboard!.inputs.metadata as { labels: Record<string, string> }).labels.grafana_dashboard).toBe("1");
  });

  it("refuse unpinned versions", () => {
    expect(() => new mod.CertManager("x", { version: "latest" })).toThrow(/must be pinned/);
    expect(() => new mod.Monitoring("y", { version: "~75", meshNamespace: "istio-system" })).toThrow(/pinned chart version/);
  });
});
