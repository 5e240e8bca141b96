// Pure: the cluster description -> the LOCAL_CONFIG the ztunnels read, and each pod's hosts file.
import { stringify } from "yaml";
import type { PlannedPod, TopologyPlan } from "./plan.ts";
import { DEFAULT_CLUSTER_DOMAIN } from "../shared/index.ts";
import { appProtocolOf } from "../control-plane/index.ts";

export interface ServiceSpec {
  namespace: string;
  name: string;
  /** Pods (by name, in the same namespace) that back the service. */
  selector: string[];
  /** `name` as a Service port's: its prefix declares the protocol (http, http2, grpc), as Istio reads it. */
  ports: Array<{ port: number; targetPort: number; name?: string }>;
  labels?: Record<string, string>;
  /** Added by `ambientctl local apply` (the applied object's key). */
  applied?: string;
  /** Its VIP is 198.19.0.(10+vipIndex); services created with the cluster take their order instead. */
  vipIndex?: number;
}

export interface PodMeta {
  namespace: string;
  name: string;
  serviceAccount: string;
  ambient: boolean;
  /** This pod is the waypoint of the named Gateway (not captured; takes HBONE itself). */
  gateway?: string;
  /** This pod runs our proxy as a sidecar (sidecar mode): not captured by the node, takes HBONE itself. */
  sidecar?: boolean;
}

export interface PlannedService extends ServiceSpec {
  vip: string;
  hostname: string;
}

export function planServices(services: ServiceSpec[], clusterDomain = DEFAULT_CLUSTER_DOMAIN): PlannedService[] {
  return services.map((s, i) => ({ ...s, vip: `198.19.0.${10 + (s.vipIndex ?? i)}`, hostname: `${s.name}.${s.namespace}.svc.${clusterDomain}` }));
}

export function renderLocalConfig(opts: { plan: TopologyPlan; pods: PodMeta[]; services: PlannedService[]; policies: unknown[]; trustDomain: string }): string {
  const meta = new Map(opts.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const workloads = opts.plan.pods.map((p: PlannedPod) => {
    const m = meta.get(`${p.namespace}/${p.name}`);
    const services: Record<string, Record<number, number>> = {};
    for (const s of opts.services) {
      if (s.namespace === p.namespace && s.selector.includes(p.name)) {
        services[`${s.namespace}/${s.hostname}`] = Object.fromEntries(s.ports.map((x) => [x.port, x.targetPort]));
      }
    }
    return {
      uid: `Kubernetes//Pod/${p.namespace}/${p.name}`,
      name: p.name,
      namespace: p.namespace,
      workloadIps: [p.ip],
      trustDomain: opts.trustDomain,
      serviceAccount: m?.serviceAccount ?? "default",
      node: p.node,
      protocol: m?.ambient || m?.gateway || m?.sidecar ? "HBONE" : "NONE",
      ...(Object.keys(services).length ? { services } : {}),
      ...(m?.gateway || m?.sidecar ? { nativeHbone: true } : {}),
    };
  });
  const services = opts.services.map((s) => {
    const protocols = s.ports.flatMap((x) => {
      const p = appProtocolOf({ name: x.name });
      return p ? [[x.port, p] as const] : [];
    });
    return {
      name: s.name,
      namespace: s.namespace,
      hostname: s.hostname,
      vips: [s.vip],
      ports: Object.fromEntries(s.ports.map((x) => [x.port, x.targetPort])),
      ...(protocols.length ? { appProtocols: Object.fromEntries(protocols) } : {}),
    };
  });
  return stringify({ workloads, services, policies: opts.policies }, { sortMapEntries: false });
}

/** Kubernetes-style names for every service: name (same namespace), name.ns, name.ns.svc, FQDN. */
export function renderHosts(pod: PlannedPod, services: PlannedService[], clusterDomain = DEFAULT_CLUSTER_DOMAIN): string {
  const lines = ["127.0.0.1 localhost", `${pod.ip} ${pod.name}`];
  for (const s of services) {
    const names = [`${s.name}.${s.namespace}.svc.${clusterDomain}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
    if (s.namespace === pod.namespace) names.push(s.name);
    lines.push(`${s.vip} ${names.join(" ")}`);
  }
  return lines.join("\n") + "\n";
}
