// An immutable, indexed view of one config version. Lookups used on every connection are O(1).
// A new version is either built whole (a local file, the first config) or derived from the previous one
// with a delta (`applyDelta`, the config stream): copying the indexes and patching what the delta touched
// costs O(changes) plus a few native Map copies, where rebuilding them took 15-25 ms per response for
// 10,000 workloads in each proxy (issue 13). state-delta.test.ts checks both ways agree.
import { compareStrings, normalizeIp } from "../../shared/index.ts";
import type { ProxyResources } from "./types.ts";
import { policyKey, serviceKey, type Authorization, type HttpRoute, type L7Policy, type Service, type Workload } from "./types.ts";

export interface Endpoint {
  workload: Workload;
  /** The port on the workload for a given service port. */
  targetPort: number;
}

/** What changed between two config versions: resources added or replaced, and keys removed. */
export interface ProxyDelta {
  workloads?: { upsert: readonly Workload[]; remove: readonly string[] };
  /** Services are keyed by serviceKey ("namespace/hostname"). */
  services?: { upsert: readonly Service[]; remove: readonly string[] };
  /** Policies, routes and L7 policies are keyed "namespace/name". */
  policies?: { upsert: readonly Authorization[]; remove: readonly string[] };
  routes?: { upsert: readonly HttpRoute[]; remove: readonly string[] };
  l7Policies?: { upsert: readonly L7Policy[]; remove: readonly string[] };
}

interface Indexes {
  workloads: Map<string, Workload>;
  services: Map<string, Service>;
  policies: Map<string, Authorization>;
  routes: Map<string, HttpRoute>;
  l7Policies: Map<string, L7Policy>;
  /** Every workload claiming an IP, in order; the last one wins (a stale pod and its successor). */
  ipClaims: Map<string, Workload[]>;
  vipClaims: Map<string, Service[]>;
  endpointsByService: Map<string, Workload[]>;
  routesByParent: Map<string, HttpRoute[]>;
}

// The order the config stream client publishes in, which a delta-derived state keeps.
const byUid = (a: Workload, b: Workload) => compareStrings(a.uid, b.uid);
const byService = (a: Service, b: Service) => compareStrings(serviceKey(a), serviceKey(b));
const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) => compareStrings(policyKey(a), policyKey(b));

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export class ProxyState {
  private readonly ix: Indexes;
  private lists: {
    workloads?: readonly Workload[];
    services?: readonly Service[];
    policies?: readonly Authorization[];
    routes?: readonly HttpRoute[];
    l7Policies?: readonly L7Policy[];
  };
  readonly rootNamespace: string;

  constructor(snapshot: ProxyResources, rootNamespace = "istio-system") {
    this.rootNamespace = rootNamespace;
    const routes = snapshot.routes ?? [];
    const l7Policies = snapshot.l7Policies ?? [];
    this.lists = { workloads: snapshot.workloads, services: snapshot.services, policies: snapshot.policies, routes, l7Policies };
    const ix: Indexes = {
      workloads: new Map(),
      services: new Map(),
      policies: new Map(),
      routes: new Map(),
      l7Policies: new Map(),
      ipClaims: new Map(),
      vipClaims: new Map(),
      endpointsByService: new Map(),
      routesByParent: new Map(),
    };
    for (const w of snapshot.workloads) {
      ix.workloads.set(w.uid, w);
      for (const ip of w.ips) push(ix.ipClaims, ip, w);
      for (const key of w.services.keys()) push(ix.endpointsByService, key, w);
    }
    for (const s of snapshot.services) {
      ix.services.set(serviceKey(s), s);
      for (const vip of s.vips) push(ix.vipClaims, vip, s);
    }
    for (const p of snapshot.policies) ix.policies.set(policyKey(p), p);
    for (const r of routes) {
      ix.routes.set(policyKey(r), r);
      for (const parent of r.parents) push(ix.routesByParent, parent, r);
    }
    for (const p of l7Policies) ix.l7Policies.set(policyKey(p), p);
    this.ix = ix;
  }

  static empty(): ProxyState {
    return new ProxyState({ workloads: [], services: [], policies: [] });
  }

  /** The next version: this one with `d` applied. This state is left as it is (connections hold it). */
  applyDelta(d: ProxyDelta): ProxyState {
    const prev = this.ix;
    const ix: Indexes = { ...prev };
    if (d.workloads) {
      ix.workloads = new Map(prev.workloads);
      const touched = new Set<string>();
      const ips = new Set<string>();
      const keys = new Set<string>();
      const mark = (w: Workload | undefined) => {
        if (!w) return;
        for (const ip of w.ips) ips.add(ip);
        for (const k of w.services.keys()) keys.add(k);
      };
      for (const uid of d.workloads.remove) {
        touched.add(uid);
        mark(ix.workloads.get(uid));
        ix.workloads.delete(uid);
      }
      for (const w of d.workloads.upsert) {
        touched.add(w.uid);
        mark(ix.workloads.get(w.uid));
        mark(w);
        ix.workloads.set(w.uid, w);
      }
      const live = (w: Workload) => !touched.has(w.uid);
      ix.ipClaims = patchLists(prev.ipClaims, ips, live, d.workloads.upsert, (w, ip) => w.ips.includes(ip), byUid);
      ix.endpointsByService = patchLists(prev.endpointsByService, keys, live, d.workloads.upsert, (w, k) => w.services.has(k), byUid);
    }
    if (d.services) {
      ix.services = new Map(prev.services);
      const touched = new Set<string>();
      const vips = new Set<string>();
      const mark = (s: Service | undefined) => s?.vips.forEach((v) => vips.add(v));
      for (const key of d.services.remove) {
        touched.add(key);
        mark(ix.services.get(key));
        ix.services.delete(key);
      }
      for (const s of d.services.upsert) {
        const key = serviceKey(s);
        touched.add(key);
        mark(ix.services.get(key));
        mark(s);
        ix.services.set(key, s);
      }
      ix.vipClaims = patchLists(
        prev.vipClaims,
        vips,
        (s) => !touched.has(serviceKey(s)),
        d.services.upsert,
        (s, v) => s.vips.includes(v),
        byService,
      );
    }
    if (d.policies) ix.policies = patchMap(prev.policies, d.policies);
    if (d.routes) {
      const parents = new Set<string>();
      for (const key of d.routes.remove) prev.routes.get(key)?.parents.forEach((p) => parents.add(p));
      for (const r of d.routes.upsert) {
        prev.routes.get(policyKey(r))?.parents.forEach((p) => parents.add(p));
        r.parents.forEach((p) => parents.add(p));
      }
      ix.routes = patchMap(prev.routes, d.routes);
      const touched = new Set([...d.routes.remove, ...d.routes.upsert.map(policyKey)]);
      ix.routesByParent = patchLists(
        prev.routesByParent,
        parents,
        (r) => !touched.has(policyKey(r)),
        d.routes.upsert,
        (r, p) => r.parents.includes(p),
        byName,
      );
    }
    if (d.l7Policies) ix.l7Policies = patchMap(prev.l7Policies, d.l7Policies);
    return ProxyState.fromIndexes(ix, this.rootNamespace);
  }

  private static fromIndexes(ix: Indexes, rootNamespace: string): ProxyState {
    const s = Object.create(ProxyState.prototype) as ProxyState;
    Object.assign(s, { ix, lists: {}, rootNamespace });
    return s;
  }

  // A delta-derived state sorts its lists on first use only: the proxies' hot paths use the indexes.
  get workloads(): readonly Workload[] {
    return (this.lists.workloads ??= [...this.ix.workloads.values()].sort(byUid));
  }

  get services(): readonly Service[] {
    return (this.lists.services ??= [...this.ix.services.values()].sort(byService));
  }

  get policies(): readonly Authorization[] {
    return (this.lists.policies ??= [...this.ix.policies.values()].sort(byName));
  }

  get routes(): readonly HttpRoute[] {
    return (this.lists.routes ??= [...this.ix.routes.values()].sort(byName));
  }

  get l7Policies(): readonly L7Policy[] {
    return (this.lists.l7Policies ??= [...this.ix.l7Policies.values()].sort(byName));
  }

  /** The workloads `accept` takes, in the lists' order, without building the whole list (ztunnel's own pods on each change). */
  workloadsWhere(accept: (w: Workload) => boolean): Workload[] {
    if (this.lists.workloads) return this.lists.workloads.filter(accept);
    const out: Workload[] = [];
    for (const w of this.ix.workloads.values()) if (accept(w)) out.push(w);
    return out.sort(byUid);
  }

  workload(uid: string): Workload | undefined {
    return this.ix.workloads.get(uid);
  }

  /** HTTPRoutes whose parent is the service ("namespace/hostname"). */
  routesFor(serviceKey: string): readonly HttpRoute[] {
    return this.ix.routesByParent.get(serviceKey) ?? [];
  }

  workloadByIp(ip: string): Workload | undefined {
    return this.ix.ipClaims.get(normalizeIp(ip))?.at(-1);
  }

  serviceByVip(ip: string): Service | undefined {
    return this.ix.vipClaims.get(normalizeIp(ip))?.at(-1);
  }

  service(key: string): Service | undefined {
    return this.ix.services.get(key);
  }

  /** Healthy endpoints serving `port` of the service, with the port to dial on each. */
  endpoints(service: Service, port: number): Endpoint[] {
    const servicePortTarget = service.ports.get(port);
    const out: Endpoint[] = [];
    for (const w of this.ix.endpointsByService.get(serviceKey(service)) ?? []) {
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
      const p = this.ix.policies.get(key);
      if (p && p.scope === "WorkloadSelector") out.push(p);
    }
    return out;
  }

  /** Services a workload backs, for telemetry (destination_service). */
  servicesOf(w: Workload): Service[] {
    return [...w.services.keys()].map((k) => this.ix.services.get(k)).filter((s): s is Service => s !== undefined);
  }
}

function patchMap<V extends { namespace: string; name: string }>(prev: Map<string, V>, d: { upsert: readonly V[]; remove: readonly string[] }): Map<string, V> {
  const m = new Map(prev);
  for (const k of d.remove) m.delete(k);
  for (const v of d.upsert) m.set(policyKey(v), v);
  return m;
}

/**
 * A copy of `prev` where the lists under `dirty` keys keep their untouched members and gain the
 * upserted ones that belong there, in `order`. Lists of other keys are shared with `prev`.
 */
function patchLists<V>(
  prev: Map<string, V[]>,
  dirty: ReadonlySet<string>,
  untouched: (v: V) => boolean,
  upserted: readonly V[],
  belongs: (v: V, key: string) => boolean,
  order: (a: V, b: V) => number,
): Map<string, V[]> {
  if (dirty.size === 0) return prev;
  const m = new Map(prev);
  for (const key of dirty) {
    const list = (prev.get(key) ?? []).filter(untouched);
    for (const v of upserted) if (belongs(v, key)) list.push(v);
    list.sort(order);
    if (list.length) m.set(key, list);
    else m.delete(key);
  }
  return m;
}
