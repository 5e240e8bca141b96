// Applied workloads, pure: what admission, the scheduler and the controllers make of each object, and
// that adding or removing one never moves another pod's address or users.
import { describe, expect, it } from "vitest";
import { ApplyError, baseSpec, withApplied, workloadFrom, type AppliedWorkload, type ApplyContext } from "./applied.ts";
import { ClusterView, type ClusterSpec } from "./cluster-view.ts";
import { effectiveNamespaceLabels } from "./manifests-render.ts";

const spec: ClusterSpec = {
  prefix: "al-t",
  nodes: ["node-1", "node-2"],
  workDir: "/tmp/al-t",
  pods: [
    { namespace: "mesh", name: "sleep", node: "node-1", serviceAccount: "sleep", ambient: true },
    { namespace: "mesh", name: "web", node: "node-2", serviceAccount: "web", ambient: true },
    { namespace: "side", name: "client", node: "node-2", serviceAccount: "client", ambient: false, sidecar: true },
  ],
  services: [{ namespace: "mesh", name: "web", selector: ["web"], ports: [{ port: 80, targetPort: 8080 }] }],
};

function ctx(applied: AppliedWorkload[] = [], labels: Record<string, Record<string, string>> = {}): ApplyContext {
  return { spec, plan: new ClusterView(spec).plan, namespaceLabels: (ns) => effectiveNamespaceLabels(spec.pods, labels, ns), applied };
}

const pod = (name: string, ns: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: ns, ...meta },
  spec: { containers: [{ name: "c", image: "x", command: ["python3", "-m", "http.server", "8080"] }], ...extra },
});

describe("applied workloads", () => {
  it("a Pod: admitted under its namespace's labels, scheduled on the emptiest node, its command as the program", () => {
    const w = workloadFrom("Pod", pod("api", "mesh"), ctx());
    expect(w).toEqual({
      key: "Pod/mesh/api",
      pods: [
        {
          namespace: "mesh",
          name: "api",
          serviceAccount: "default",
          ambient: true,
          app: { cmd: "python3", args: ["-m", "http.server", "8080"] },
          node: "node-1",
          slot: 1,
          userIndex: 3,
        },
      ],
      services: [],
      gateways: [],
    });
  });

  it("injection follows Istio's rules: the namespace label, the pod's label overriding it; an injected pod is never captured", () => {
    const labels = { side: { "istio-injection": "enabled" } };
    expect(workloadFrom("Pod", pod("a", "side"), ctx([], labels)).pods[0]).toMatchObject({ sidecar: true, ambient: false });
    expect(workloadFrom("Pod", pod("b", "side", {}, { labels: { "sidecar.istio.io/inject": "false" } }), ctx([], labels)).pods[0]).toMatchObject({
      ambient: false,
    });
    expect(workloadFrom("Pod", pod("b", "side", {}, { labels: { "sidecar.istio.io/inject": "false" } }), ctx([], labels)).pods[0]!.sidecar).toBeUndefined();
    expect(workloadFrom("Pod", pod("c", "mesh", {}, { labels: { "sidecar.istio.io/inject": "true" } }), ctx()).pods[0]).toMatchObject({
      sidecar: true,
      ambient: false,
    });
    expect(workloadFrom("Pod", pod("d", "other", {}, { labels: { "istio.io/dataplane-mode": "ambient" } }), ctx()).pods[0]).toMatchObject({ ambient: true });
  });

  it("a Deployment: replicas named <name>-<i>, spread over nodes, each with its own slot and users", () => {
    const w = workloadFrom("Deployment", { metadata: { name: "api", namespace: "mesh" }, spec: { replicas: 3, template: pod("x", "mesh") } }, ctx());
    expect(w.pods.map((p) => [p.name, p.node, p.slot, p.userIndex])).toEqual([
      ["api-0", "node-1", 1, 3],
      ["api-1", "node-1", 2, 4],
      ["api-2", "node-2", 2, 5],
    ]);
  });

  it("a waypoint Gateway: its pod and HBONE Service, as Istio's deployment controller makes them; other Gateways make nothing", () => {
    const w = workloadFrom("Gateway", { metadata: { name: "wp", namespace: "mesh" }, spec: { gatewayClassName: "istio-waypoint" } }, ctx());
    expect(w.pods[0]).toMatchObject({ name: "wp", gateway: "wp", serviceAccount: "wp", ambient: false });
    expect(w.services).toEqual([
      {
        namespace: "mesh",
        name: "wp",
        selector: ["wp"],
        ports: [{ port: 15008, targetPort: 15008 }],
        labels: { "gateway.networking.k8s.io/gateway-name": "wp" },
        vipIndex: 1,
      },
    ]);
    expect(w.gateways).toEqual([{ namespace: "mesh", name: "wp" }]);
    expect(workloadFrom("Gateway", { metadata: { name: "in", namespace: "mesh" }, spec: { gatewayClassName: "istio" } }, ctx()).pods).toEqual([]);
  });

  it("refuses what cannot run here, saying what to change", () => {
    const fail =
      (kind: string, o: unknown, c = ctx()) =>
      () =>
        workloadFrom(kind, o as never, c);
    expect(fail("Pod", { metadata: { name: "p", namespace: "mesh" }, spec: { containers: [{ name: "c", image: "nginx" }] } })).toThrow(
      /has no command[\s\S]*give it one/,
    );
    expect(fail("Pod", pod("sleep", "mesh"))).toThrow(/pod mesh\/sleep already exists/);
    expect(fail("Pod", pod("p", "mesh", { nodeName: "node-9" }))).toThrow(/node-9 is not a node; nodes: node-1, node-2/);
    expect(fail("Pod", pod("p", "istio-system"))).toThrow(/mesh's own pods/);
    expect(fail("Pod", pod("p", "mesh", { hostNetwork: true }))).toThrow(/hostNetwork/);
    expect(fail("Pod", { metadata: { name: "p", namespace: "mesh" }, spec: { containers: [] } })).toThrow(/exactly one container/);
    expect(fail("Deployment", { metadata: { name: "d", namespace: "mesh" }, spec: { replicas: 11, template: pod("x", "mesh") } })).toThrow(
      /replicas must be 0..10/,
    );
    expect(fail("Pod", pod("Bad_Name", "mesh"))).toThrow(ApplyError);
  });

  it("adding and removing applied pods never moves another pod's address, veth or users", () => {
    const a = workloadFrom("Pod", pod("a", "mesh"), ctx());
    const b = workloadFrom("Pod", pod("b", "mesh"), ctx([a]));
    const both = new ClusterView(withApplied(spec, [a, b]));
    const onlyB = new ClusterView(withApplied(withApplied(spec, [a, b]), [b]));
    expect(onlyB.pod("mesh/b")).toEqual(both.pod("mesh/b"));
    expect(onlyB.users("mesh/b")).toEqual(both.users("mesh/b"));
    for (const p of spec.pods) expect(onlyB.pod(`${p.namespace}/${p.name}`)).toEqual(new ClusterView(spec).pod(`${p.namespace}/${p.name}`));
    // A pod applied after a removal takes a fresh slot, not the freed one another pod's record may still name.
    const c = workloadFrom("Pod", pod("c", "mesh", { nodeName: "node-1" }), { ...ctx([b]) });
    expect(c.pods[0]!.slot).toBeGreaterThan(b.pods[0]!.slot!);
    expect(baseSpec(withApplied(spec, [a, b]))).toEqual({ ...spec, gateways: [] });
  });
});

describe("takeDeployments", () => {
  it("takes apps/v1 Deployments out of a file and leaves the rest for the control plane's parser", async () => {
    const { takeDeployments } = await import("./apply-workloads.ts");
    const r = takeDeployments(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\n---\napiVersion: v1\nkind: Pod\nmetadata: { name: p }\n---\napiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: { name: old }\n",
      "f.yaml",
    );
    expect(r.deployments).toEqual([{ kind: "Deployment", object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } } }]);
    expect(r.rest).toMatch(/kind: Pod/);
    expect(r.rest).not.toMatch(/Deployment/);
    expect(r.errors).toEqual(['f.yaml document 3 (Deployment): apiVersion must be apps/v1, got "extensions/v1beta1"']);
  });
});

describe("Service labels", () => {
  it("labels applied to a Service replace its own in what the control plane reads; others keep theirs", async () => {
    const { renderClusterManifests } = await import("./manifests-render.ts");
    const { parseAllDocuments } = await import("yaml");
    const { planServices } = await import("./config-render.ts");
    const services = planServices([
      ...spec.services,
      { namespace: "mesh", name: "wp", selector: [], ports: [{ port: 15008, targetPort: 15008 }], labels: { a: "b" } },
    ]);
    const text = renderClusterManifests(new ClusterView(spec).plan, spec.pods, services, {}, [], { "mesh/web": { "istio.io/use-waypoint": "wp" } });
    const svc = (name: string) =>
      parseAllDocuments(text)
        .map((d) => d.toJS() as { kind: string; metadata: { name: string; labels?: Record<string, string> } })
        .find((o) => o.kind === "Service" && o.metadata.name === name)!;
    expect(svc("web").metadata.labels).toEqual({ "istio.io/use-waypoint": "wp" });
    expect(svc("wp").metadata.labels).toEqual({ a: "b" });
  });
});
