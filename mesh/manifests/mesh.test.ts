import { describe, expect, it } from "vitest";
import { meshObjects, type MeshManifestOptions } from "./mesh.ts";
import { validateObject } from "./validate.ts";

const opts: MeshManifestOptions = {
  namespace: "istio-system",
  trustDomain: "cluster.local",
  logLevel: "info",
  images: { controlPlane: "ambient-lab/control-plane:0.1.0", ztunnel: "ambient-lab/ztunnel:0.1.0", waypoint: "ambient-lab/waypoint:0.1.0" },
  pullPolicy: "Never",
};

describe("mesh manifests", () => {
  const objects = meshObjects(opts);

  it("every object validates against its Kubernetes or Gateway API schema", () => {
    for (const o of objects) validateObject(o);
    expect(objects.map((o) => o.kind)).toEqual([
      "Namespace",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      "Deployment",
      "Service",
      "MutatingWebhookConfiguration",
      "ServiceAccount",
      "DaemonSet",
      "GatewayClass",
    ]);
  });

  it("a schema violation is reported with the object's name", () => {
    const bad = structuredClone(objects.find((o) => o.kind === "Deployment")!) as { spec: { replicas: unknown } } & (typeof objects)[number];
    bad.spec.replicas = "one";
    expect(() => validateObject(bad)).toThrow(/Deployment istio-system\/istiod does not match the apps\/v1 Deployment schema/);
  });

  it("ztunnel runs on every node in the host network with only the capabilities nft needs", () => {
    const ds = objects.find((o) => o.kind === "DaemonSet") as unknown as {
      spec: { template: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } } };
    };
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.tolerations).toContainEqual({ operator: "Exists", effect: "NoSchedule" });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    const c = pod.containers[0]!;
    expect(c.securityContext).toMatchObject({ privileged: false, capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] } });
    expect(c.readinessProbe).toEqual({ httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 5 });
    expect(c.imagePullPolicy).toBe("Never");
    expect(c.image).not.toMatch(/:latest$/);
  });

  it("the control plane may review tokens and read its CA Secret, and nothing broader", () => {
    const role = objects.find((o) => o.kind === "ClusterRole") as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> };
    expect(role.rules).toContainEqual(expect.objectContaining({ resources: ["tokenreviews"], verbs: ["create"] }));
    expect(role.rules.some((r) => r.resources.includes("secrets"))).toBe(false);
    const nsRole = objects.find((o) => o.kind === "Role") as unknown as { metadata: { namespace: string }; rules: Array<{ resources: string[] }> };
    expect(nsRole.metadata.namespace).toBe("istio-system");
    expect(nsRole.rules[0]!.resources).toEqual(["secrets"]);
  });
});
