// Pure: the objects that make an istio-waypoint Gateway real, as Istio's deployment controller renders
// them: a ServiceAccount (the waypoint's identity), a Deployment running our waypoint, and a Service on
// 15008 that ztunnels send HBONE to. All owned by the Gateway, so deleting it removes them.
import type { KubeObject } from "../../manifests/index.ts";
import { waypointPodTemplate, type WaypointPodOptions } from "../../manifests/index.ts";
import type { Gateway } from "../model/kube.ts";

export type WaypointDeploymentOptions = WaypointPodOptions;

export const WAYPOINT_CLASS = "istio-waypoint";
export const GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";
export const MANAGED_LABEL = "gateway.istio.io/managed";
export const MANAGED_VALUE = "istio.io-mesh-controller";

export function isWaypointGateway(g: Gateway): boolean {
  return g.spec?.gatewayClassName === WAYPOINT_CLASS;
}

export function waypointObjects(g: Gateway, o: WaypointDeploymentOptions): KubeObject[] {
  const name = g.metadata?.name ?? "";
  const namespace = g.metadata?.namespace ?? "";
  const labels = { [GATEWAY_NAME_LABEL]: name, [MANAGED_LABEL]: MANAGED_VALUE, "app.kubernetes.io/part-of": "ambient-lab" };
  const owner = { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", name, uid: g.metadata?.uid ?? "", controller: true };
  const meta = { name, namespace, labels, ...(g.metadata?.uid ? { ownerReferences: [owner] } : {}) };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: {
        selector: { matchLabels: { [GATEWAY_NAME_LABEL]: name } },
        template: waypointPodTemplate(name, labels, o),
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: {
        type: "ClusterIP",
        selector: { [GATEWAY_NAME_LABEL]: name },
        ports: [{ name: "mesh", port: 15008, targetPort: 15008, protocol: "TCP", appProtocol: "all" }],
      },
    },
  ];
}

/** The Gateway's status once its objects are applied (Accepted, Programmed, the Service's hostname). */
export function waypointStatus(g: Gateway, clusterDomain: string, now: string): Record<string, unknown> {
  const generation = (g.metadata as { generation?: number } | undefined)?.generation;
  const cond = (type: string, reason: string, message: string) => ({
    type,
    status: "True",
    reason,
    message,
    lastTransitionTime: now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  });
  return {
    addresses: [{ type: "Hostname", value: `${g.metadata?.name}.${g.metadata?.namespace}.svc.${clusterDomain}` }],
    conditions: [
      cond("Accepted", "Accepted", "handled by the ambient-lab control plane"),
      cond("Programmed", "Programmed", "waypoint Deployment and Service applied"),
    ],
  };
}
