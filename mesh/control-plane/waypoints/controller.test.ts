// The waypoint deployment controller against an in-test API server: server-side apply of the objects,
// the Gateway's status, nothing re-applied when nothing changed; the objects pass the Kubernetes schemas.
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { validateObject } from "../../manifests/index.ts";
import type { KubeObject } from "../../manifests/index.ts";
import { silentLogger } from "../../shared/index.ts";
import { FakeApiServer } from "../../testing/index.ts";
import type { Gateway } from "../model/kube.ts";
import { WaypointController } from "./controller.ts";
import { waypointObjects, type WaypointDeploymentOptions } from "./objects.ts";

const GATEWAYS = "/apis/gateway.networking.k8s.io/v1/namespaces/demo/gateways";
const opts: WaypointDeploymentOptions = {
  image: "ambient-lab/waypoint:0.1.0",
  pullPolicy: "IfNotPresent",
  xdsAddress: "https://istiod.istio-system.svc:15012",
  trustDomain: "cluster.local",
  controlPlaneIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
  logLevel: "info",
};
const gw = (cls = "istio-waypoint"): Gateway => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { name: "waypoint", namespace: "demo", uid: "u-1", generation: 2 } as Gateway["metadata"],
  spec: { gatewayClassName: cls, listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
});

let api: FakeApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe("waypoint deployment controller", () => {
  it("renders schema-valid objects owned by the Gateway, never captured, with the waypoint's identity", () => {
    const objs = waypointObjects(gw(), opts);
    for (const o of objs) validateObject(o);
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/demo/waypoint",
      "Deployment/demo/waypoint",
      "Service/demo/waypoint",
    ]);
    const dep = objs[1] as KubeObject & {
      spec: { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: Array<{ image: string }> } } };
    };
    expect(dep.spec.template.metadata.labels).toMatchObject({ "istio.io/dataplane-mode": "none", "gateway.networking.k8s.io/gateway-name": "waypoint" });
    expect(dep.spec.template.spec.serviceAccountName).toBe("waypoint");
    expect(dep.spec.template.spec.containers[0]!.image).toBe(opts.image);
    expect((objs[0]!.metadata as unknown as { ownerReferences: unknown[] }).ownerReferences).toEqual([
      { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", name: "waypoint", uid: "u-1", controller: true },
    ]);
  });

  it("applies them with server-side apply, reports the Gateway Programmed, and skips unchanged Gateways", async () => {
    api = new FakeApiServer();
    const server = await api.start();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "t", server, skipTLSVerify: true }],
      users: [{ name: "t" }],
      contexts: [{ name: "t", cluster: "t", user: "t" }],
      currentContext: "t",
    });
    api.seed(GATEWAYS, gw() as never);
    const c = new WaypointController({ kubeConfig: kc, options: opts, clusterDomain: "cluster.local", log: silentLogger() });
    await c.sync([gw(), gw("istio")]);
    expect(api.patches.map((p) => `${p.contentType.split(";")[0]} ${p.path}`)).toEqual([
      "application/apply-patch+yaml /api/v1/namespaces/demo/serviceaccounts/waypoint",
      "application/apply-patch+yaml /apis/apps/v1/namespaces/demo/deployments/waypoint",
      "application/apply-patch+yaml /api/v1/namespaces/demo/services/waypoint",
      "application/merge-patch+json /apis/gateway.networking.k8s.io/v1/namespaces/demo/gateways/waypoint/status",
    ]);
    expect(api.get("/apis/apps/v1/namespaces/demo/deployments", "demo", "waypoint")).toBeDefined();
    expect(api.get(GATEWAYS, "demo", "waypoint")!.status).toMatchObject({
      addresses: [{ type: "Hostname", value: "waypoint.demo.svc.cluster.local" }],
      conditions: [
        { type: "Accepted", status: "True" },
        { type: "Programmed", status: "True", observedGeneration: 2 },
      ],
    });
    await c.sync([gw()]);
    expect(api.patches).toHaveLength(4);
    const next = new WaypointController({
      kubeConfig: kc,
      options: { ...opts, image: "ambient-lab/waypoint:0.2.0" },
      clusterDomain: "cluster.local",
      log: silentLogger(),
    });
    await next.sync([gw()]);
    expect(api.patches).toHaveLength(8);
  });
});
