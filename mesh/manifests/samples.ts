// Pure: Istio's httpbin and sleep samples (their shapes: service accounts, the Service on 8000 -> 8080,
// labels app/version) in the demo namespaces, with pinned images.
import { PSS_ENFORCE, PSS_REASON, type KubeObject } from "./mesh.ts";
import { injectSidecar, type SidecarOptions } from "./sidecar.ts";
import { istioNamespaceLabels } from "./istio.ts";
import { LABELS } from "../api/index.ts";

export const SAMPLE_IMAGES = {
  // Pinned by tag; the Pulumi program may override them with digests.
  httpbin: "docker.io/mccutchen/go-httpbin:v2.18.3",
  sleep: "docker.io/curlimages/curl:8.15.0",
} as const;

export interface SampleNamespace {
  name: string;
  /**
   * "ambient" enrols the namespace; "waypoint" enrols it and sends its services through its own
   * waypoint (Gateway "waypoint"); "sidecar" runs our proxy as a sidecar in each pod (injected here,
   * at render time); "none" is the baseline.
   */
  mode: "ambient" | "waypoint" | "sidecar" | "none";
}

export const DEFAULT_SAMPLE_NAMESPACES: SampleNamespace[] = [
  { name: "ambient-demo", mode: "ambient" },
  { name: "waypoint-demo", mode: "waypoint" },
  { name: "sidecar-demo", mode: "sidecar" },
  { name: "baseline", mode: "none" },
];

/** Which injector gives sidecar-mode namespaces their proxy: ours (at render time) or Istio's webhook. */
export type SidecarInjector = "ambient-lab" | "istio";

function namespace(ns: SampleNamespace, injector: SidecarInjector): KubeObject {
  const labels: Record<string, string> = { "app.kubernetes.io/part-of": "ambient-lab" };
  if (injector === "istio") Object.assign(labels, istioNamespaceLabels(ns.mode));
  if (ns.mode === "ambient" || ns.mode === "waypoint") labels[LABELS.dataplaneMode] = "ambient";
  if (ns.mode === "waypoint") labels[LABELS.useWaypoint] = "waypoint";
  // Pod Security Standards: ambient pods need nothing special, so their namespaces enforce "restricted";
  // an injected sidecar installs nftables rules as root with NET_ADMIN, which only "privileged" admits.
  if (ns.mode === "sidecar") {
    labels[PSS_ENFORCE] = "privileged";
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: ns.name,
        labels,
        annotations: {
          [PSS_REASON]:
            injector === "istio"
              ? "Istio's istio-init container installs the sidecar's capture rules with NET_ADMIN and NET_RAW"
              : "the injected proxy installs its capture rules as root with NET_ADMIN, then drops to uid 1337 (as Istio's sidecar init)",
        },
      },
    };
  }
  labels[PSS_ENFORCE] = "restricted";
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: ns.name, labels } };
}

const restricted = { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };

/** The namespace's waypoint, as `istioctl waypoint apply` creates it; the control plane deploys it. */
function waypointGateway(namespace: string): KubeObject {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: { name: "waypoint", namespace, labels: { [LABELS.waypointFor]: "service" } },
    spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
  };
}

/**
 * `sidecar` is how sidecar-mode namespaces get their proxy; without it they are rendered as plain pods.
 * With `injector: "istio"` they are labelled for Istio's injection webhook instead (and `sidecar` is unused).
 */
export function sampleObjects<I = string>(
  namespaces: SampleNamespace[] = DEFAULT_SAMPLE_NAMESPACES,
  images = SAMPLE_IMAGES,
  sidecar?: SidecarOptions<I>,
  opts: { injector?: SidecarInjector } = {},
): KubeObject[] {
  const injector = opts.injector ?? "ambient-lab";
  return namespaces.flatMap((ns) =>
    namespaceSamples(ns, images, injector).map((o) => (ns.mode === "sidecar" && sidecar && injector === "ambient-lab" ? injectSidecar(o, sidecar) : o)),
  );
}

function namespaceSamples(ns: SampleNamespace, images: typeof SAMPLE_IMAGES, injector: SidecarInjector): KubeObject[] {
  return [
    namespace(ns, injector),
    ...(ns.mode === "waypoint" ? [waypointGateway(ns.name)] : []),
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "httpbin", namespace: ns.name } },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "httpbin", namespace: ns.name, labels: { app: "httpbin", service: "httpbin" } },
      spec: { selector: { app: "httpbin" }, ports: [{ name: "http", port: 8000, targetPort: 8080, protocol: "TCP" }] },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "httpbin", namespace: ns.name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "httpbin", version: "v1" } },
        template: {
          metadata: { labels: { app: "httpbin", version: "v1" } },
          spec: {
            serviceAccountName: "httpbin",
            containers: [
              {
                name: "httpbin",
                image: images.httpbin,
                imagePullPolicy: "IfNotPresent",
                env: [{ name: "PORT", value: "8080" }],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: "/status/200", port: 8080 } },
                resources: { requests: { cpu: "50m", memory: "32Mi" } },
                // v2.18's image runs as root: without a uid the kubelet refuses runAsNonRoot (kubelet-rules.ts).
                securityContext: { ...restricted, runAsUser: 65532, runAsGroup: 65532 },
              },
            ],
          },
        },
      },
    },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sleep", namespace: ns.name } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "sleep", namespace: ns.name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "sleep" } },
        template: {
          metadata: { labels: { app: "sleep" } },
          spec: {
            serviceAccountName: "sleep",
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: "sleep",
                image: images.sleep,
                imagePullPolicy: "IfNotPresent",
                command: ["/bin/sleep", "infinity"],
                resources: { requests: { cpu: "10m", memory: "16Mi" } },
                securityContext: { ...restricted, runAsUser: 100 },
              },
            ],
          },
        },
      },
    },
  ];
}
