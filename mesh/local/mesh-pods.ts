// Pure: the mesh's pods on this machine, from the pod templates the Kubernetes manifests render (the
// control-plane Deployment, the ztunnel DaemonSet, each waypoint's Deployment, the injected sidecar), so
// the local cluster runs what we ship. Where this machine must differ, the difference is written here,
// next to its reason, and nowhere else.
import { join } from "node:path";
import { identityTokenName } from "../control-plane/index.ts";
import {
  controlPlaneEndpoint,
  controlPlanePodTemplate,
  injectTemplate,
  SIDECAR_CONTAINER,
  sidecarOptionsFor,
  waypointPodTemplate,
  ztunnelPodTemplate,
  type MeshManifestOptions,
} from "../manifests/index.ts";
import { LABELS } from "../api/index.ts";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { CONTROL_PLANE_UID, podSecretsDir, type ClusterView } from "./cluster-view.ts";
import { LOCAL_IMAGES } from "./images.ts";
import { podProcess, type PodFields, type PodTemplateLike, type ProjectedFile } from "./pod-process.ts";
import { logFileName, PROC, processName, type ProcessKey } from "./process-key.ts";
import type { SpawnSpec } from "./processes.ts";

export const MESH_NAMESPACE = "istio-system";

/**
 * Every proxy: `down` and restarts give a process 8 s before SIGKILL, not a pod's 30 s grace period, so
 * connections get 2 s to drain instead of 25 s.
 */
const LOCAL_PROXY_ENV = { CONNECTION_TERMINATION_DEADLINE: "2s" };

/** local-config mode has no control plane: proxies read LOCAL_CONFIG and a file CA instead. */
const CONTROL_PLANE_ENV = ["XDS_ADDRESS", "ROOT_CERT", "TOKEN_FILE", "CONTROL_PLANE_IDENTITY"];

export interface LocalPod {
  key: ProcessKey;
  netns: string;
  fields: PodFields;
  template: PodTemplateLike;
  container: string;
  /** Set after the pod spec's environment (this machine's differences, then the cluster spec's). */
  env: Record<string, string>;
  /** Removed from the pod spec's environment. */
  unsetEnv: string[];
  /** Overrides the user the pod spec gives. */
  user?: number;
  /** Whether the pod's volumes are projected (not in local-config mode: no control plane, no tokens). */
  projectVolumes: boolean;
  /** Who owns the projected files: the user that reads them (a sidecar reads after dropping root). */
  fileOwner: number;
  /** The control plane's token that stands in for the kubelet's TokenRequest for this pod's service account. */
  tokenSource: string;
}

export function meshManifestOptions(view: ClusterView): MeshManifestOptions {
  return { namespace: MESH_NAMESPACE, trustDomain: view.trustDomain, logLevel: "info", images: LOCAL_IMAGES, pullPolicy: "Never" };
}

/** The directory that holds volume `volume` of pod `namespace/name`. */
export function volumeDir(view: ClusterView, fields: PodFields, volume: string): string {
  return join(podSecretsDir(view.spec.prefix), `${fields.namespace}-${fields.name}`, volume);
}

const tokens = (view: ClusterView, file: string) => join(view.controlPlaneStateDir, "tokens", `${file}.token`);

/**
 * The control plane: no API server here, so it reads the cluster's objects from CONFIG_DIR, keeps its
 * CA and bootstrap tokens (which stand in for TokenReview) in STATE_DIR, and debounces less (tests wait on it).
 */
export function controlPlanePod(view: ClusterView): LocalPod {
  return {
    key: PROC.controlPlane,
    netns: view.plan.bridgeNetns,
    fields: { namespace: MESH_NAMESPACE, name: "istiod", nodeName: "", podIP: view.plan.bridgeIp },
    template: controlPlanePodTemplate(meshManifestOptions(view), CONTROL_PLANE_UID),
    container: "control-plane",
    env: {
      DISCOVERY: "files",
      CONFIG_DIR: view.manifestsDir,
      STATE_DIR: view.controlPlaneStateDir,
      BOOTSTRAP_NODES: view.plan.nodes.map((n) => n.name).join(","),
      DEBOUNCE: "50",
      ...(view.spec.tokenTtlSeconds ? { BOOTSTRAP_TOKEN_TTL: String(view.spec.tokenTtlSeconds) } : {}),
    },
    unsetEnv: [],
    projectVolumes: false,
    fileOwner: CONTROL_PLANE_UID,
    tokenSource: "",
  };
}

/** The DaemonSet's pod on `node`; its token is the node's bootstrap token. */
export function ztunnelPod(view: ClusterView, node: string): LocalPod {
  const n = view.node(node);
  const cp = view.mode === "control-plane";
  return {
    key: PROC.ztunnel(node),
    netns: n.netns,
    fields: { namespace: MESH_NAMESPACE, name: `ztunnel-${node}`, nodeName: node, podIP: n.ip },
    template: ztunnelPodTemplate(meshManifestOptions(view)),
    container: "ztunnel",
    env: { ...LOCAL_PROXY_ENV, ...(cp ? {} : { LOCAL_CONFIG: view.configPath, CA_DIR: view.caDir }), ...view.spec.ztunnelEnv },
    unsetEnv: cp ? [] : CONTROL_PLANE_ENV,
    projectVolumes: cp,
    fileOwner: 0,
    tokenSource: tokens(view, node),
  };
}

/** A waypoint pod runs its Gateway's Deployment pod, as the pod's own proxy user. */
export function waypointPod(view: ClusterView, podName: string): LocalPod {
  const spec = view.podSpec(podName);
  const planned = view.pod(podName);
  if (!spec.gateway) throw new MeshError(ErrorCode.Config, `pod ${podName} is not a waypoint (it names no gateway)`);
  const cp = view.mode === "control-plane";
  const uid = view.users(podName).proxy;
  const template = waypointPodTemplate(
    spec.gateway,
    { [LABELS.gatewayName]: spec.gateway },
    {
      ...controlPlaneEndpoint(MESH_NAMESPACE, view.trustDomain),
      image: LOCAL_IMAGES.waypoint,
      pullPolicy: "Never",
      logLevel: "info",
      uid,
    },
  );
  return {
    key: PROC.waypoint(podName),
    netns: planned.netns,
    fields: { namespace: spec.namespace, name: spec.name, nodeName: spec.node, podIP: planned.ip },
    template,
    container: "waypoint",
    env: { ...LOCAL_PROXY_ENV, ...(cp ? {} : { LOCAL_CONFIG: view.configPath, CA_DIR: view.caDir }), ...view.spec.waypointEnv },
    unsetEnv: cp ? [] : CONTROL_PLANE_ENV,
    // local-config mode reads the file CA's key, so it runs as root there: that mode is for tests.
    ...(cp ? {} : { user: 0 }),
    projectVolumes: cp,
    fileOwner: uid,
    tokenSource: tokens(view, identityTokenName(spec.namespace, spec.gateway)),
  };
}

/**
 * A sidecar pod: the proxy container injection adds, in the pod's own network namespace. It installs the
 * pod's capture rules as root, then runs as the pod's proxy user (PROXY_UID), which reads the token.
 */
export function sidecarPod(view: ClusterView, podName: string): LocalPod {
  if (view.mode !== "control-plane") throw new MeshError(ErrorCode.Config, `sidecar pod ${podName} needs the control plane (mode "control-plane")`);
  const spec = view.podSpec(podName);
  const planned = view.pod(podName);
  const uid = view.users(podName).proxy;
  const opts = {
    ...sidecarOptionsFor({ namespace: MESH_NAMESPACE, trustDomain: view.trustDomain, image: LOCAL_IMAGES.ztunnel, pullPolicy: "Never" as const }),
    proxyUid: uid,
  };
  const template = injectTemplate({ metadata: { labels: {} }, spec: { serviceAccountName: spec.serviceAccount, containers: [] } }, opts);
  return {
    key: PROC.sidecar(podName),
    netns: planned.netns,
    fields: { namespace: spec.namespace, name: spec.name, nodeName: spec.node, podIP: planned.ip },
    template,
    container: SIDECAR_CONTAINER,
    env: { ...LOCAL_PROXY_ENV, ...view.spec.ztunnelEnv },
    unsetEnv: [],
    projectVolumes: true,
    fileOwner: uid,
    tokenSource: tokens(view, identityTokenName(spec.namespace, spec.serviceAccount)),
  };
}

/** Every mesh pod of the cluster, in start order: control plane, ztunnels, waypoints, sidecars. */
export function meshPods(view: ClusterView): LocalPod[] {
  const named = (pred: (p: ClusterView["spec"]["pods"][number]) => unknown) => view.spec.pods.filter(pred).map((p) => `${p.namespace}/${p.name}`);
  return [
    ...(view.mode === "control-plane" ? [controlPlanePod(view)] : []),
    ...view.plan.nodes.map((n) => ztunnelPod(view, n.name)),
    ...named((p) => p.gateway).map((p) => waypointPod(view, p)),
    ...named((p) => p.sidecar).map((p) => sidecarPod(view, p)),
  ];
}

/** The trust bundle ConfigMap the control plane publishes into every namespace; here, its file. */
const ROOT_CERT_CONFIGMAP = "istio-ca-root-cert";

export interface ResolvedPod {
  spawn: SpawnSpec;
  /** The files to project before the process starts, each with where its content comes from. */
  files: Array<ProjectedFile & { source: string; mode: number }>;
  fileOwner: number;
  /** The URL the kubelet's readiness probe polls, from inside the pod's network namespace. */
  readyUrl?: string;
}

/** Pure: a mesh pod -> the process to start and the files to project (podProcess, plus this machine's differences). */
export function resolvePod(
  view: ClusterView,
  pod: LocalPod,
  image: (ref: string) => { argv: string[]; user?: number; env?: Record<string, string> },
): ResolvedPod {
  const p = podProcess(pod.template, pod.container, {
    pod: pod.fields,
    image,
    volumeDir: (v) => volumeDir(view, pod.fields, v),
    configMapKeys: (name) => (name === ROOT_CERT_CONFIGMAP ? ["root-cert.pem"] : undefined),
  });
  const env = { ...p.env, ...pod.env };
  for (const k of pod.unsetEnv) delete env[k];
  const user = pod.user ?? p.user;
  const files = pod.projectVolumes
    ? p.files.map((f) =>
        f.kind === "serviceAccountToken"
          ? { ...f, source: pod.tokenSource, mode: 0o400 }
          : { ...f, source: join(view.controlPlaneStateDir, "root-cert.pem"), mode: 0o444 },
      )
    : [];
  return {
    spawn: {
      name: processName(pod.key),
      netns: pod.netns,
      cmd: p.argv[0]!,
      args: p.argv.slice(1),
      env,
      logFile: join(view.logsDir, logFileName(pod.key)),
      ...(user !== 0 ? { runAs: user } : {}),
    },
    files,
    fileOwner: pod.fileOwner,
    ...(p.readiness ? { readyUrl: `http://${pod.fields.podIP}:${p.readiness.port}${p.readiness.path}` } : {}),
  };
}
