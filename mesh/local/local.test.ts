import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planServices, renderHosts, renderLocalConfig } from "./config-render.ts";
import { renderKubeProxy } from "./kube-proxy.ts";
import { planTopology } from "./plan.ts";
import { parseLocalConfig } from "../proxy/index.ts";
import { expectGolden } from "../testing/expect.ts";

const golden = (name: string, actual: string) => expectGolden(join(import.meta.dirname, "testdata", name), actual);

const spec = {
  prefix: "al-demo",
  nodes: [{ name: "node-1" }, { name: "node-2" }],
  pods: [
    { namespace: "ambient-demo", name: "sleep", node: "node-1" },
    { namespace: "ambient-demo", name: "httpbin", node: "node-2" },
    { namespace: "ambient-demo", name: "httpbin-2", node: "node-2" },
    { namespace: "baseline", name: "sleep", node: "node-1" },
  ],
};
const plan = planTopology(spec);
const services = planServices([
  { namespace: "ambient-demo", name: "httpbin", selector: ["httpbin", "httpbin-2"], ports: [{ port: 8000, targetPort: 8080 }] },
  { namespace: "baseline", name: "empty", selector: [], ports: [{ port: 80, targetPort: 8080 }] },
]);

describe("local cluster plan", () => {
  it("plans addresses and iproute2 batches (golden)", () => {
    golden("plan.json", JSON.stringify(plan, null, 2) + "\n");
  });

  it("keeps every address inside 198.18.0.0/15", () => {
    const ips = [...plan.nodes.map((n) => n.ip), ...plan.pods.map((p) => p.ip), ...services.map((s) => s.vip)];
    for (const ip of ips) expect(ip).toMatch(/^198\.1[89]\./);
    for (const b of plan.batches) expect(b.script).not.toMatch(/default/);
  });

  it("refuses a bad topology with every problem listed", () => {
    expect(() => planTopology({ prefix: "x", nodes: [{ name: "n" }, { name: "n" }], pods: [{ namespace: "a", name: "B", node: "zz" }] })).toThrow(
      /prefix "x" must start with "al-"[\s\S]*node "n" appears twice[\s\S]*DNS-label[\s\S]*unknown node "zz"/,
    );
  });

  it("renders LOCAL_CONFIG that ztunnel accepts without rejections (golden)", () => {
    const text = renderLocalConfig({
      plan,
      pods: [
        { namespace: "ambient-demo", name: "sleep", serviceAccount: "sleep", ambient: true },
        { namespace: "ambient-demo", name: "httpbin", serviceAccount: "httpbin", ambient: true },
        { namespace: "ambient-demo", name: "httpbin-2", serviceAccount: "httpbin", ambient: true },
        { namespace: "baseline", name: "sleep", serviceAccount: "sleep", ambient: false },
      ],
      services,
      policies: [],
      trustDomain: "cluster.local",
    });
    golden("local-config.yaml", text);
    const parsed = parseLocalConfig(text);
    expect(parsed.rejected).toEqual([]);
    expect(parsed.workloads.find((w) => w.namespace === "baseline")?.protocol).toBe("NONE");
  });

  it("renders Kubernetes-style names in hosts files", () => {
    const hosts = renderHosts(plan.pods[0]!, services);
    expect(hosts).toContain(`${services[0]!.vip} httpbin.ambient-demo.svc.cluster.local httpbin.ambient-demo.svc httpbin.ambient-demo httpbin\n`);
    expect(hosts).toContain(`${services[1]!.vip} empty.baseline.svc.cluster.local empty.baseline.svc empty.baseline\n`);
  });

  it("renders service DNAT rules like kube-proxy (golden)", () => {
    golden("kube-proxy.nft", renderKubeProxy(services, plan.pods));
  });
});

describe("cluster manifests for the control plane", () => {
  it("render Kubernetes objects the control plane accepts and translates without notes (golden)", async () => {
    const { renderClusterManifests } = await import("./manifests-render.ts");
    const { parseManifests } = await import("../control-plane/index.ts");
    const { translate } = await import("../control-plane/index.ts");
    const { emptySnapshot } = await import("../control-plane/index.ts");
    const pods = [
      { namespace: "ambient-demo", name: "sleep", serviceAccount: "sleep", ambient: true },
      { namespace: "ambient-demo", name: "httpbin", serviceAccount: "httpbin", ambient: true },
      { namespace: "ambient-demo", name: "httpbin-2", serviceAccount: "httpbin", ambient: true },
      { namespace: "baseline", name: "sleep", serviceAccount: "sleep", ambient: false },
    ];
    const text = renderClusterManifests(plan, pods, services);
    golden("cluster-manifests.yaml", text);
    const parsed = parseManifests(text);
    expect(parsed.errors).toEqual([]);
    const snap = emptySnapshot() as unknown as Record<string, unknown[]>;
    for (const o of parsed.objects) snap[o.kind]!.push(o.object);
    const t = translate(snap as never);
    expect(t.notes).toEqual([]);
    expect(t.workloads.map((w) => [w.namespace, w.name, w.protocol, w.ips[0]])).toEqual([
      ["ambient-demo", "httpbin", "HBONE", "198.18.2.10"],
      ["ambient-demo", "httpbin-2", "HBONE", "198.18.2.11"],
      ["ambient-demo", "sleep", "HBONE", "198.18.1.10"],
      ["baseline", "sleep", "NONE", "198.18.1.11"],
    ]);
    expect(
      t.workloads
        .find((w) => w.name === "httpbin-2")
        ?.services.get("ambient-demo/httpbin.ambient-demo.svc.cluster.local")
        ?.get(8000),
    ).toBe(8080);
  });
});

describe("prometheus config", () => {
  it("scrapes the control plane's admin port and each node's ztunnel metrics", async () => {
    const { renderPrometheusConfig } = await import("./prometheus.ts");
    const { parse } = await import("yaml");
    const cfg = parse(renderPrometheusConfig(plan, true)) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
    expect(cfg.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)])).toEqual([
      ["control-plane", ["198.18.0.2:15014"]],
      ["ztunnel", ["198.18.0.11:15020", "198.18.0.12:15020"]],
    ]);
    expect((parse(renderPrometheusConfig(plan, false)) as { scrape_configs: unknown[] }).scrape_configs).toHaveLength(1);
  });

  it("namespace labels applied with ambientctl override enrolment", async () => {
    const { renderClusterManifests } = await import("./manifests-render.ts");
    const text = renderClusterManifests(plan, [{ namespace: "baseline", name: "sleep", serviceAccount: "sleep", ambient: false }], services, {
      baseline: { "istio.io/dataplane-mode": "ambient" },
    });
    expect(text).toMatch(/name: baseline\n\s+labels:\n\s+istio.io\/dataplane-mode: ambient/);
  });
});
