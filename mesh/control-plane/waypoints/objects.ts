// Pure: the objects that make an istio-waypoint Gateway real, as Istio's deployment controller renders
// them: a ServiceAccount (the waypoint's identity), a Deployment running our waypoint, and a Service on
// 15008 that ztunnels send HBONE to. All owned by the Gateway, so deleting it removes them.
import type { KubeObject } from "../../manifests/index.ts";
import { controlPlaneEnv, credentialMounts, credentialVolumes, type ControlPlaneEndpoint } from "../../manifests/index.ts";
import type { Gateway } from "../model/kube.ts";
import { LABELS } from "../../api/index.ts";

export interface WaypointDeploymentOptions extends ControlPlaneEndpoint {
  image: string;
  pullPolicy: "Always" | "IfNotPresent" | "Never";
  logLevel: string;
}

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
        template: {
          // Never captured: the waypoint terminates HBONE itself.
          metadata: { labels: { ...labels, [LABELS.dataplaneMode]: "none" } },
          spec: {
            serviceAccountName: name,
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: "waypoint",
                image: o.image,
                imagePullPolicy: o.pullPolicy,
                env: [
                  { name: "WAYPOINT_NAME", value: name },
                  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                  { name: "SERVICE_ACCOUNT", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
                  ...controlPlaneEnv(o),
                  { name: "CONNECTION_TERMINATION_DEADLINE", value: "25s" },
                  { name: "LOG_LEVEL", value: o.logLevel },
                ],
                ports: [
                  { name: "hbone", containerPort: 15008, protocol: "TCP" },
                  { name: "http-metrics", containerPort: 15020, protocol: "TCP" },
                  { name: "http-ready", containerPort: 15021, protocol: "TCP" },
                ],
                readinessProbe: { httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 5 },
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                // Pod Security "restricted" (waypoints run in application namespaces, which may enforce it).
                securityContext: {
                  runAsUser: 1337,
                  runAsGroup: 1337,
                  runAsNonRoot: true,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
                volumeMounts: credentialMounts(),
              },
            ],
            volumes: credentialVolumes(),
          },
        },
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
