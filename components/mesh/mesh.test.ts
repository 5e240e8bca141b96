// The Mesh component under Pulumi's mocks: which resources it registers, with what, under which parent.
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, settle } from "../testing/mocks.ts";

// Mocks first; the component module is imported afterwards (ESM hoists static imports above code).
const registered = installMocks();

let Mesh: typeof import("./index.ts").Mesh;
beforeAll(async () => {
  ({ Mesh } = await import("./index.ts"));
});

describe("Mesh component", () => {
  it("registers the mesh's objects as typed Kubernetes resources under the component", async () => {
    const mesh = new Mesh("mesh", {
      images: { controlPlane: "ambient-lab/control-plane:0.1.0", ztunnel: "ambient-lab/ztunnel:0.1.0", waypoint: "ambient-lab/waypoint:0.1.0" },
      pullPolicy: "Never",
    });
    await new Promise<void>((r) => mesh.namespace.apply(() => r()));
    await settle();
    expect(registered.find((r) => r.type === "ambient-lab:mesh:Mesh")?.name).toBe("mesh");
    const types = registered.map((r) => r.type);
    for (const t of [
      "kubernetes:core/v1:Namespace",
      "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
      "kubernetes:apps/v1:Deployment",
      "kubernetes:apps/v1:DaemonSet",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
      "kubernetes:core/v1:Service",
      "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    ]) {
      expect(types, t).toContain(t);
    }
    const ds = registered.find((r) => r.type === "kubernetes:apps/v1:DaemonSet")!;
    expect(ds.name).toBe("mesh-daemonset-istio-system-ztunnel");
    const spec = (ds.inputs.spec as { template: { spec: { hostNetwork: boolean; containers: Array<{ image: string; imagePullPolicy: string }> } } }).template
      .spec;
    expect(spec.hostNetwork).toBe(true);
    expect(spec.containers[0]).toMatchObject({ image: "ambient-lab/ztunnel:0.1.0", imagePullPolicy: "Never" });
    const deploy = registered.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    expect((deploy.inputs.metadata as { namespace: string }).namespace).toBe("istio-system");
  });

  it("refuses unpinned images with an error naming the argument", () => {
    expect(
      () =>
        new Mesh("bad", {
          images: { controlPlane: "ambient-lab/control-plane:latest", ztunnel: "ambient-lab/ztunnel:0.1.0", waypoint: "ambient-lab/waypoint:0.1.0" },
        }),
    ).toThrow(/images.controlPlane "ambient-lab\/control-plane:latest" must be pinned/);
  });
});
