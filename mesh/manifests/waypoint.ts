// Pure: the pod of a waypoint, the one definition the control plane's waypoint controller puts in each
// istio-waypoint Gateway's Deployment and the single-machine cluster runs.
import { proxyPorts, proxyReadinessProbe } from "./proxy-ports.ts";
import { LABELS } from "../api/index.ts";
import type { PodTemplate } from "./mesh.ts";
import { controlPlaneEnv, credentialMounts, credentialVolumes, type ControlPlaneEndpoint } from "./proxy-credentials.ts";

export interface WaypointPodOptions extends ControlPlaneEndpoint {
  image: string;
  pullPolicy: "Always" | "IfNotPresent" | "Never";
  logLevel: string;
  /** The user the waypoint runs as: Istio's 1337; the single-machine cluster gives each pod its own. */
  uid?: number;
}

/** The pod serving Gateway `name`; `labels` select it (the Gateway's name label among them). */
export function waypointPodTemplate(name: string, labels: Record<string, string>, o: WaypointPodOptions): PodTemplate {
  const uid = o.uid ?? 1337;
  return {
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
          ports: proxyPorts([{ name: "hbone", containerPort: 15008, protocol: "TCP" }]),
          readinessProbe: proxyReadinessProbe(),
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
          // Pod Security "restricted" (waypoints run in application namespaces, which may enforce it).
          securityContext: {
            runAsUser: uid,
            runAsGroup: uid,
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
  };
}
