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
    const values = charts[1]!.inputs.values as { prometheus: { prometheusSpec: { additionalScrapeConfigs: Array<{ job_name: string }> } } };
    expect(values.prometheus.prometheusSpec.additionalScrapeConfigs.map((j) => j.job_name)).toEqual(["ambient-lab-ztunnel", "ambient-lab-control-plane"]);
  });

  it("refuse unpinned versions", () => {
    expect(() => new mod.CertManager("x", { version: "latest" })).toThrow(/must be pinned/);
    expect(() => new mod.Monitoring("y", { version: "~75", meshNamespace: "istio-system" })).toThrow(/pinned chart version/);
  });
});
