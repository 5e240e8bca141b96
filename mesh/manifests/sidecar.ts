// Pure: sidecar injection at render time (what `istioctl kube-inject` does to a manifest): our proxy
// (the ztunnel image in sidecar mode) added to a pod template as a Kubernetes native sidecar (an init
// container with restartPolicy Always, Kubernetes 1.29+), so it starts before the application, stops
// after it, and lets Jobs complete. It installs the pod's capture rules as root with NET_ADMIN and then
// runs as user 1337, whose connections the rules exclude.
import { proxyPorts, proxyReadinessProbe, proxyStartupProbe } from "./proxy-ports.ts";
import type { KubeObject } from "./mesh.ts";
import { controlPlaneEndpoint, controlPlaneEnv, credentialMounts, credentialVolumes, type ControlPlaneEndpoint } from "./proxy-credentials.ts";
import { LABELS } from "../api/index.ts";

/** `I` is the image's type: a string, or a Pulumi Input the components pass through. */
export interface SidecarOptions<I = string> extends ControlPlaneEndpoint {
  image: I;
  pullPolicy: "Never" | "IfNotPresent";
  /** The user the proxy drops to, whose connections capture skips: Istio's 1337 (SIDECAR_UID) by default. */
  proxyUid?: number;
}

/** The sidecar for a mesh installed in `namespace`, running the ztunnel image. */
export function sidecarOptionsFor<I>(o: { namespace: string; trustDomain: string; image: I; pullPolicy: "Never" | "IfNotPresent" }): SidecarOptions<I> {
  return { image: o.image, pullPolicy: o.pullPolicy, ...controlPlaneEndpoint(o.namespace, o.trustDomain) };
}

const VOLUME_PREFIX = "ambient-lab-";
export const SIDECAR_CONTAINER = "ambient-lab-proxy";

export const PROXY_LABEL = LABELS.proxy;
export const SIDECAR_UID = 1337;

type PodSpec = { initContainers?: unknown[]; containers: unknown[]; volumes?: unknown[]; [k: string]: unknown };
export type Template = { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };

function proxyContainer<I>(o: SidecarOptions<I>): Record<string, unknown> {
  return {
    name: SIDECAR_CONTAINER,
    image: o.image,
    imagePullPolicy: o.pullPolicy,
    // A native sidecar: runs for the pod's whole life, started before and stopped after the app.
    restartPolicy: "Always",
    env: [
      { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "SIDECAR_POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "REDIRECT", value: "sidecar" },
      { name: "PROXY_UID", value: String(o.proxyUid ?? SIDECAR_UID) },
      ...controlPlaneEnv(o),
    ],
    ports: proxyPorts(),
    startupProbe: proxyStartupProbe(),
    readinessProbe: proxyReadinessProbe(),
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    // Root only to install the rules (NET_ADMIN in the pod's namespace), then the process runs as 1337.
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW", "SETUID", "SETGID"] },
    },
    volumeMounts: credentialMounts(VOLUME_PREFIX),
  };
}

/** A pod template with the proxy added (once): what injectSidecar does to each workload's template. */
export function injectTemplate<I>(t: Template, o: SidecarOptions<I>): Template {
  if (t.spec.initContainers?.some((c) => (c as { name?: string }).name === SIDECAR_CONTAINER)) return t; // already injected
  return {
    ...t,
    metadata: { ...t.metadata, labels: { ...t.metadata?.labels, [PROXY_LABEL]: "sidecar", [LABELS.dataplaneMode]: "none" } },
    spec: {
      ...t.spec,
      initContainers: [proxyContainer(o), ...(t.spec.initContainers ?? [])],
      volumes: [...(t.spec.volumes ?? []), ...credentialVolumes(VOLUME_PREFIX)],
    },
  };
}

/** Deployments, DaemonSets, StatefulSets and Jobs get the sidecar in their pod template; other objects pass through. */
export function injectSidecar<I>(o: KubeObject, opts: SidecarOptions<I>): KubeObject {
  const kinds = ["Deployment", "DaemonSet", "StatefulSet", "Job"];
  if (!kinds.includes(o.kind)) return o;
  const spec = o.spec as { template: Template } & Record<string, unknown>;
  return { ...o, spec: { ...spec, template: injectTemplate(spec.template, opts) } };
}
