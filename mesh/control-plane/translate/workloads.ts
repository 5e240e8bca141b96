// Pods -> workloads and Services -> services, with Istio's enrolment and waypoint-binding rules. Pure.
import net from "node:net";
import type { AppProtocol, PortMap, Service, WaypointRef, Workload } from "../../api/index.ts";
import type { ClusterSnapshot, V1Namespace, V1Pod, V1Service } from "../model/kube.ts";
import { LABELS, type ResourceNote, type TranslateOptions } from "./options.ts";
import { compareStrings } from "../../shared/index.ts";
import { appProtocolOf } from "./app-protocol.ts";

/** Enrolled: pod label ambient, or namespace label ambient unless the pod says none. Host-network pods never are. */
export function isEnrolled(pod: V1Pod, ns: V1Namespace | undefined): boolean {
  if (pod.spec?.hostNetwork) return false;
  const podMode = pod.metadata?.labels?.[LABELS.dataplaneMode];
  if (podMode === "none") return false;
  if (podMode === "ambient") return true;
  return ns?.metadata?.labels?.[LABELS.dataplaneMode] === "ambient";
}

function podIps(pod: V1Pod): string[] {
  const list = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  return list.filter((ip): ip is string => typeof ip === "string" && net.isIP(ip) !== 0);
}

function isReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  // Objects written by hand (file mode) often carry no status conditions: treat a running IP as ready.
  return ready ? ready.status === "True" : pod.status?.phase !== "Failed" && pod.status?.phase !== "Succeeded";
}

/** The controller's name: a ReplicaSet's Deployment (hash suffix removed), else the owner, else the pod. */
function workloadName(pod: V1Pod): string {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return pod.metadata?.name ?? "";
  if (owner.kind === "ReplicaSet") return owner.name.replace(/-[a-z0-9]{5,10}$/, "");
  return owner.name;
}

/** Waypoint Gateways by "namespace/name", with the traffic they accept (`istio.io/waypoint-for`). */
export type WaypointIndex = ReadonlyMap<string, "service" | "workload" | "all" | "none">;

export const GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";

export function waypointIndex(snap: ClusterSnapshot): WaypointIndex {
  const out = new Map<string, "service" | "workload" | "all" | "none">();
  for (const g of snap.Gateway) {
    if (g.spec?.gatewayClassName !== "istio-waypoint") continue;
    const f = g.metadata?.labels?.[LABELS.waypointFor] ?? "service";
    out.set(`${g.metadata?.namespace}/${g.metadata?.name}`, f === "workload" || f === "all" || f === "none" ? f : "service");
  }
  return out;
}

/**
 * The waypoint an object binds to: its own `istio.io/use-waypoint` label, else its namespace's; "none"
 * opts out. Binding needs an istio-waypoint Gateway of that name that accepts this kind of traffic;
 * otherwise traffic goes direct and `missing` says why.
 */
function waypointFor(
  labels: Record<string, string> | undefined,
  nsLabels: Record<string, string> | undefined,
  namespace: string,
  domain: string,
  kind: "service" | "workload",
  gateways: WaypointIndex,
): { ref?: WaypointRef; missing?: string } {
  // A waypoint's own pods and Service never go through a waypoint.
  if (labels?.[GATEWAY_NAME_LABEL]) return {};
  const name = labels?.[LABELS.useWaypoint] ?? nsLabels?.[LABELS.useWaypoint];
  if (!name || name === "none") return {};
  const fromObject = labels?.[LABELS.useWaypoint] !== undefined;
  const wpNs = (fromObject ? labels?.[LABELS.useWaypointNamespace] : nsLabels?.[LABELS.useWaypointNamespace]) ?? namespace;
  const accepts = gateways.get(`${wpNs}/${name}`);
  if (accepts === undefined) return { missing: `istio.io/use-waypoint names ${wpNs}/${name}, which is not an istio-waypoint Gateway; traffic goes direct` };
  if (accepts !== "all" && accepts !== kind)
    return kind === "service"
      ? { missing: `waypoint ${wpNs}/${name} is for ${accepts} traffic (istio.io/waypoint-for), not service traffic; traffic goes direct` }
      : {};
  return { ref: { hostname: `${name}.${wpNs}.svc.${domain}`, namespace: wpNs, hbonePort: 15008 } };
}

function matchesSelector(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Resolves a Service port's targetPort for one pod: a number, or a named container port. */
function targetPortFor(port: { port: number; targetPort?: number | string }, pod: V1Pod): number | undefined {
  const t = port.targetPort;
  if (t === undefined || t === null || t === "") return port.port;
  if (typeof t === "number") return t;
  if (/^\d+$/.test(t)) return Number(t);
  for (const c of pod.spec?.containers ?? []) {
    const p = c.ports?.find((x) => x.name === t);
    if (p) return p.containerPort;
  }
  return undefined;
}

function serviceHostname(svc: V1Service, domain: string): string {
  return `${svc.metadata?.name}.${svc.metadata?.namespace}.svc.${domain}`;
}

export interface WorkloadTranslation {
  workloads: Workload[];
  services: Service[];
  notes: ResourceNote[];
}

/** Workloads from an earlier translation, reusable for pods whose object is unchanged. */
export type PodReuse = ReadonlyMap<string, { pod: V1Pod; workload: Workload }>;

/**
 * What translating one pod needs from the rest of the cluster (namespaces, waypoints, services and
 * their EndpointSlices). It depends on no pod, so a change to pods only can keep it.
 */
export interface PodContext {
  opts: TranslateOptions;
  nsByName: ReadonlyMap<string, V1Namespace>;
  gateways: WaypointIndex;
  /** "ns/hostname" -> service port -> target port, for the services that select this pod. */
  servicesOfPod: (pod: V1Pod) => Map<string, Map<number, number>>;
}

/** Services (sorted) and their notes, and the context pods are translated in. */
export function serviceIndex(snap: ClusterSnapshot, opts: TranslateOptions): { services: Service[]; notes: ResourceNote[]; ctx: PodContext } {
  const notes: ResourceNote[] = [];
  const nsByName = new Map(snap.Namespace.map((n) => [n.metadata?.name ?? "", n]));
  const gateways = waypointIndex(snap);
  // Endpoints come from EndpointSlices where a service has them, from its selector otherwise (file
  // mode). Both are looked up per pod, so a reused pod costs nothing here.
  const slicesBySvc = new Set<string>();
  const slicedServicesOfPod = new Map<string, string[]>();
  for (const s of snap.EndpointSlice) {
    const svc = s.metadata?.labels?.["kubernetes.io/service-name"];
    if (!svc) continue;
    const ns = s.metadata?.namespace ?? "";
    slicesBySvc.add(`${ns}/${svc}`);
    for (const ep of s.endpoints ?? []) {
      const ref = ep.targetRef;
      if (ref?.kind !== "Pod") continue;
      const pk = `${ref.namespace ?? ns}/${ref.name}`;
      const list = slicedServicesOfPod.get(pk);
      if (list) list.push(`${ns}/${svc}`);
      else slicedServicesOfPod.set(pk, [`${ns}/${svc}`]);
    }
  }
  interface SvcInfo {
    svc: V1Service;
    key: string;
    specPorts: Array<{ port: number; targetPort?: number | string }>;
  }
  const svcByName = new Map<string, SvcInfo>();
  // Services without EndpointSlices (file mode), by namespace and by one label of their selector: a pod
  // can only match a selector that has one of its labels, so it is checked against those alone (scanning
  // every service of its namespace was pods x services: 2 s of a 50,000-pod translation).
  const selectorSvcsByNs = new Map<string, Map<string, SvcInfo[]>>();
  const labelKey = (k: string, v: string) => `${k}\u0000${v}`;
  const services: Service[] = [];
  for (const svc of snap.Service) {
    const ns = svc.metadata?.namespace ?? "";
    const name = svc.metadata?.name ?? "";
    const hostname = serviceHostname(svc, opts.clusterDomain);
    const specPorts = (svc.spec?.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP");
    const vips = (svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])).filter((ip) => net.isIP(ip) !== 0);
    const badTarget = specPorts.find((p) => typeof p.targetPort === "number" && (p.targetPort < 1 || p.targetPort > 65535));
    if (badTarget) {
      notes.push({
        kind: "Service",
        namespace: ns,
        name,
        status: "Rejected",
        reason: `port ${badTarget.port}: targetPort ${badTarget.targetPort} is outside 1..65535`,
      });
      continue;
    }
    const svcPorts: PortMap = new Map(
      specPorts
        .map(
          (p) =>
            [
              p.port,
              typeof p.targetPort === "number"
                ? p.targetPort
                : typeof p.targetPort === "string" && /^\d+$/.test(p.targetPort)
                  ? Number(p.targetPort)
                  : p.targetPort === undefined
                    ? p.port
                    : 0,
            ] as [number, number],
        )
        .sort((a, b) => a[0] - b[0]),
    );
    const { ref: wp, missing } = waypointFor(svc.metadata?.labels, nsByName.get(ns)?.metadata?.labels, ns, opts.clusterDomain, "service", gateways);
    if (missing) notes.push({ kind: "Service", namespace: ns, name, status: "Partial", reason: missing });
    const protocols = new Map<number, AppProtocol>();
    for (const p of specPorts) {
      const declared = appProtocolOf(p);
      if (declared) protocols.set(p.port, declared);
    }
    services.push({
      name,
      namespace: ns,
      hostname,
      vips,
      ports: svcPorts,
      ...(protocols.size ? { appProtocols: protocols } : {}),
      ...(wp ? { waypoint: wp } : {}),
    });
    const info: SvcInfo = { svc, key: `${ns}/${hostname}`, specPorts: specPorts as SvcInfo["specPorts"] };
    svcByName.set(`${ns}/${name}`, info);
    const first = Object.entries(svc.spec?.selector ?? {})[0];
    if (!slicesBySvc.has(`${ns}/${name}`) && first) {
      let byLabel = selectorSvcsByNs.get(ns);
      if (!byLabel) selectorSvcsByNs.set(ns, (byLabel = new Map()));
      const k = labelKey(first[0], first[1]);
      const list = byLabel.get(k);
      if (list) list.push(info);
      else byLabel.set(k, [info]);
    }
  }

  /** "ns/hostname" -> service port -> target port, for the services that select this pod. */
  const servicesOfPod = (pod: V1Pod): Map<string, Map<number, number>> => {
    const ns = pod.metadata?.namespace ?? "";
    const pk = `${ns}/${pod.metadata?.name}`;
    const infos: SvcInfo[] = [];
    for (const s of slicedServicesOfPod.get(pk) ?? []) {
      const info = svcByName.get(s);
      if (info) infos.push(info);
    }
    const byLabel = selectorSvcsByNs.get(ns);
    if (byLabel) {
      for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
        for (const info of byLabel.get(labelKey(k, v)) ?? []) if (matchesSelector(info.svc.spec?.selector, pod.metadata?.labels)) infos.push(info);
      }
    }
    const out = new Map<string, Map<number, number>>();
    for (const info of infos.sort((a, b) => compareStrings(a.key, b.key))) {
      const portMap = new Map<number, number>();
      for (const p of info.specPorts) {
        const t = targetPortFor(p, pod);
        if (t !== undefined) portMap.set(p.port, t);
      }
      out.set(info.key, new Map([...portMap.entries()].sort((a, b) => a[0] - b[0])));
    }
    return out;
  };

  services.sort((a, b) => compareStrings(`${a.namespace}/${a.hostname}`, `${b.namespace}/${b.hostname}`));
  return { services, notes, ctx: { opts, nsByName, gateways, servicesOfPod } };
}

/** One pod's workload, or the note saying why it has none (or neither: nothing to address yet). */
export function translatePod(pod: V1Pod, ctx: PodContext, policiesFor: (pod: V1Pod) => string[]): { workload?: Workload; note?: ResourceNote } {
  const { opts, nsByName, gateways, servicesOfPod } = ctx;
  const ns = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const ips = podIps(pod);
  if (ips.length === 0 || pod.spec?.hostNetwork) return {}; // nothing to address (pending, or shares the node's IP)
  if (!pod.spec?.nodeName) return { note: { kind: "Pod", namespace: ns, name, status: "Ignored", reason: "not scheduled to a node yet" } };
  const labels = pod.metadata?.labels ?? {};
  const nsObj = nsByName.get(ns);
  const wl = workloadName(pod);
  // Waypoint pods and pods with a sidecar take HBONE themselves (on 15008) without being captured;
  // sidecars never go through a waypoint (as in Istio).
  const gw = labels[GATEWAY_NAME_LABEL];
  const isWaypoint = gw !== undefined && gateways.has(`${ns}/${gw}`);
  const isSidecar = labels[LABELS.proxy] === "sidecar";
  const { ref: wp } = isSidecar ? {} : waypointFor(labels, nsObj?.metadata?.labels, ns, opts.clusterDomain, "workload", gateways);
  const workload: Workload = {
    uid: `${opts.clusterId}//Pod/${ns}/${name}`,
    name,
    namespace: ns,
    ips,
    trustDomain: opts.trustDomain,
    serviceAccount: pod.spec.serviceAccountName || "default",
    node: pod.spec.nodeName,
    protocol: isWaypoint || isSidecar || isEnrolled(pod, nsObj) ? "HBONE" : "NONE",
    status: isReady(pod) ? "Healthy" : "Unhealthy",
    services: servicesOfPod(pod),
    authorizationPolicies: policiesFor(pod),
    canonicalName: labels[LABELS.canonicalName] ?? labels["app.kubernetes.io/name"] ?? labels.app ?? wl,
    canonicalRevision: labels[LABELS.canonicalRevision] ?? labels["app.kubernetes.io/version"] ?? labels.version ?? "latest",
    workloadName: wl,
    ...(wp ? { waypoint: wp } : {}),
    ...(isWaypoint || isSidecar ? { nativeHbone: true as const } : {}),
  };
  return { workload };
}

export function translateWorkloads(
  snap: ClusterSnapshot,
  opts: TranslateOptions,
  policiesFor: (pod: V1Pod) => string[],
  reuse?: PodReuse,
): WorkloadTranslation & { byPod: Map<string, { pod: V1Pod; workload: Workload }>; ctx: PodContext } {
  const { services, notes, ctx } = serviceIndex(snap, opts);
  const workloads: Workload[] = [];
  const byPod = new Map<string, { pod: V1Pod; workload: Workload }>();
  for (const pod of snap.Pod) {
    const key = `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
    const prev = reuse?.get(key);
    if (prev && prev.pod === pod) {
      // Same pod object and (the caller guarantees) nothing else changed: the workload is the same.
      workloads.push(prev.workload);
      byPod.set(key, prev);
      continue;
    }
    const r = translatePod(pod, ctx, policiesFor);
    if (r.note) notes.push(r.note);
    if (r.workload) {
      workloads.push(r.workload);
      byPod.set(key, { pod, workload: r.workload });
    }
  }
  workloads.sort((a, b) => compareStrings(a.uid, b.uid));
  return { workloads, services, notes, byPod, ctx };
}

export { matchesSelector };
