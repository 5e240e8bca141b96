// An immutable, indexed view of one config version. Lookups used on every connection are O(1).
import { normalizeIp } from "../../shared/index.ts";
import type { ProxyResources } from "./types.ts";
import { policyKey, serviceKey, type Authorization, type HttpRoute, type L7Policy, type Service, type Workload } from "./types.ts";

export interface Endpoint {
  workload: Workload;
  /** The port on the workload for a given service port. */
  targetPort: number;
}

export class ProxyState {
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly policies: readonly Authorization[];
  readonly routes: readonly HttpRoute[];
  readonly l7Policies: readonly L7Policy[];
  private readonly routesByParent = new Map<string, HttpRoute[]>();
  private readonly byIp = new Map<string, Workload>();
  private readonly byVip = new Map<string, Service>();
  private readonly byServiceKey = new Map<string, Service>();
  private readonly byPolicyKey = new Map<string, Authorization>();
  private readonly endpointsByService = new Map<string, Workload[]>();

  readonly rootNamespace: string;

  constructor(snapshot: ProxyResources, rootNamespace = "istio-system") {
    this.rootNamespace = rootNamespace;
    this.workloads = snapshot.workloads;
    this.services = snapshot.services;
    this.policies = snapshot.policies;
    this.routes = snapshot.routes ?? [];
    this.l7Policies = snapshot.l7Policies ?? [];
    for (const r of this.routes) {
      for (const parent of r.parents) {
        const list = this.routesByParent.get(parent) ?? [];
        list.push(r);
        this.routesByParent.set(parent, list);
      }
    }
    for (const w of snapshot.workloads) {
      for (const ip of w.ips) this.byIp.set(ip, w);
      for (const key of w.services.keys()) {
        const list = this.endpointsByService.get(key) ?? [];
        list.push(w);
        this.endpointsByService.set(key, list);
      }
    }
    for (const s of snapshot.services) {
      this.byServiceKey.set(serviceKey(s), s);
      for (const vip of s.vips) this.byVip.set(vip, s);
    }
    for (const p of snapshot.policies) this.byPolicyKey.set(policyKey(p), p);
  }

  static empty(): ProxyState {
    return new ProxyState({ workloads: [], services: [], policies: [] });
  }

  /** HTTPRoutes whose parent is the service ("namespace/hostname"). */
  routesFor(serviceKey: string): readonly HttpRoute[] {
    return this.routesByParent.get(serviceKey) ?? [];
  }

  workloadByIp(ip: string): Workload | undefined {
    return this.byIp.get(normalizeIp(ip));
  }

  serviceByVip(ip: string): Service | undefined {
    return this.byVip.get(normalizeIp(ip));
  }

  service(key: string): Service | undefined {
    return this.byServiceKey.get(key);
  }

  /** Healthy endpoints serving `port` of the service, with the port to dial on each. */
  endpoints(service: Service, port: number): Endpoint[] {
    const servicePortTarget = service.ports.get(port);
    const out: Endpoint[] = [];
    for (const w of this.endpointsByService.get(serviceKey(service)) ?? []) {
      if (w.status !== "Healthy") continue;
      const own = w.services.get(serviceKey(service));
      // The workload's own mapping wins (named target ports resolve per pod); then the service's.
      const target = own?.get(port) ?? servicePortTarget;
      if (target === undefined) continue;
      out.push({ workload: w, targetPort: target === 0 ? port : target });
    }
    return out;
  }

  /** The policies that apply to a workload: global ones, its namespace's, and the selector-scoped ones naming it. */
  policiesFor(w: Workload): Authorization[] {
    const out: Authorization[] = [];
    for (const p of this.policies) {
      if (p.scope === "Global" && p.namespace === this.rootNamespace) out.push(p);
      else if (p.scope === "Namespace" && p.namespace === w.namespace) out.push(p);
    }
    for (const key of w.authorizationPolicies) {
      const p = this.byPolicyKey.get(key);
      if (p && p.scope === "WorkloadSelector") out.push(p);
    }
    return out;
  }

  /** Services a workload backs, for telemetry (destination_service). */
  servicesOf(w: Workload): Service[] {
    return [...w.services.keys()].map((k) => this.byServiceKey.get(k)).filter((s): s is Service => s !== undefined);
  }
}
