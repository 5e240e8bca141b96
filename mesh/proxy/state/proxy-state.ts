// An immutable, indexed view of one config version. Lookups used on every connection are O(1).
// A new version is either built whole (a local file, the first config) or derived from the previous one
// with a delta (`applyDelta`, the config stream): each index is a LayeredMap, so a new version shares the
// previous one's entries and costs about the delta's size (rebuilding took 15-25 ms per response for
// 10,000 workloads in each proxy, and copying every index ~10 ms: issue 13). state-delta.test.ts checks
// both ways agree.
import { compareStrings, normalizeIp } from "../../shared/index.ts";
import { LayeredMap } from "./layered-map.ts";
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
  workloads: LayeredMap<Workload>;
  services: LayeredMap<Service>;
  policies: LayeredMap<Authorization>;
  routes: LayeredMap<HttpRoute>;
  l7Policies: LayeredMap<L7Policy>;
  /** Every workload claiming an IP, in order; the last one wins (a stale pod and its successor). */
  ipClaims: LayeredMap<Claims<Workload>>;
  vipClaims: LayeredMap<Claims<Service>>;
  endpointsByService: LayeredMap<Workload[]>;
  routesByParent: LayeredMap<HttpRoute[]>;
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

/**
 * The values claiming one IP, in order. Almost every IP has one claimant, held as itself: a list per IP
 * was 10,000 arrays in a first sync, each copied by the young generation's collections (issue 13).
 */
type Claims<V extends object> = V | V[];

function claim<V extends object>(m: Map<string, Claims<V>>, k: string, v: V): void {
  const c = m.get(k);
  if (c === undefined) m.set(k, v);
  else if (Array.isArray(c)) c.push(v);
  else m.set(k, [c, v]);
}

function lastClaim<V extends object>(c: Claims<V> | undefined): V | undefined {
  return Array.isArray(c) ? c.at(-1) : c;
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
    const ix = {
      workloads: new Map<string, Workload>(),
      services: new Map<string, Service>(),
      policies: new Map<string, Authorization>(),
      routes: new Map<string, HttpRoute>(),
      l7Policies: new Map<string, L7Policy>(),
      ipClaims: new Map<string, Claims<Workload>>(),
      vipClaims: new Map<string, Claims<Service>>(),
      endpointsByService: new Map<string, Workload[]>(),
      routesByParent: new Map<string, HttpRoute[]>(),
    };
    // Indexed loops, and each services map's keys listed once (pods of a service share their map): a
    // first sync builds this for 10,000 pods, and an iterator and a result per step were 1.5 MB of garbage.
    const keysOf = new Map<ReadonlyMap<string, unknown>, string[]>();
    const workloads = snapshot.workloads;
    for (let i = 0; i < workloads.length; i++) {
      const w = workloads[i]!;
      ix.workloads.set(w.uid, w);
      for (let k = 0; k < w.ips.length; k++) claim(ix.ipClaims, w.ips[k]!, w);
      let keys = keysOf.get(w.services);
      if (!keys) keysOf.set(w.services, (keys = [...w.services.keys()]));
      for (let k = 0; k < keys.length; k++) push(ix.endpointsByService, keys[k]!, w);
    }
    for (const s of snapshot.services) {
      ix.services.set(serviceKey(s), s);
      for (const vip of s.vips) claim(ix.vipClaims, vip, s);
    }
    for (const p of snapshot.policies) ix.policies.set(policyKey(p), p);
    for (const r of routes) {
      ix.routes.set(policyKey(r), r);
      for (const parent of r.parents) push(ix.routesByParent, parent, r);
    }
    for (const p of l7Policies) ix.l7Policies.set(policyKey(p), p);
    this.ix = {
      workloads: LayeredMap.of(ix.workloads),
      services: LayeredMap.of(ix.services),
      policies: LayeredMap.of(ix.policies),
      routes: LayeredMap.of(ix.routes),
      l7Policies: LayeredMap.of(ix.l7Policies),
      ipClaims: LayeredMap.of(ix.ipClaims),
      vipClaims: LayeredMap.of(ix.vipClaims),
      endpointsByService: LayeredMap.of(ix.endpointsByService),
      routesByParent: LayeredMap.of(ix.routesByParent),
    };
  }

  static empty(): ProxyState {
    return new ProxyState({ workloads: [], services: [], policies: [] });
  }

  /** The next version: this one with `d` applied. This state is left as it is (connections hold it). */
  applyDelta(d: ProxyDelta): ProxyState {
    const prev = this.ix;
    const ix: Indexes = { ...prev };
    if (d.workloads) {
      const r = applyChange(prev.workloads, d.workloads, (w) => w.uid, [
        { lists: prev.ipClaims, keysOf: (w) => w.ips, has: (w, ip) => w.ips.includes(ip), order: byUid, single: true },
        { lists: prev.endpointsByService, keysOf: (w) => w.services.keys(), has: (w, k) => w.services.has(k), order: byUid },
      ]);
      ix.workloads = r.byKey;
      [ix.ipClaims, ix.endpointsByService] = r.lists as [LayeredMap<Claims<Workload>>, LayeredMap<Workload[]>];
    }
    if (d.services) {
      const r = applyChange(prev.services, d.services, serviceKey, [
        { lists: prev.vipClaims, keysOf: (s) => s.vips, has: (s, v) => s.vips.includes(v), order: byService, single: true },
      ]);
      ix.services = r.byKey;
      ix.vipClaims = r.lists[0]!;
    }
    if (d.policies) ix.policies = applyChange(prev.policies, d.policies, policyKey, []).byKey;
    if (d.routes) {
      const r = applyChange(prev.routes, d.routes, policyKey, [
        { lists: prev.routesByParent, keysOf: (r) => r.parents, has: (r, p) => r.parents.includes(p), order: byName },
      ]);
      ix.routes = r.byKey;
      ix.routesByParent = r.lists[0] as LayeredMap<HttpRoute[]>;
    }
    if (d.l7Policies) ix.l7Policies = applyChange(prev.l7Policies, d.l7Policies, policyKey, []).byKey;
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
    return lastClaim(this.ix.ipClaims.get(normalizeIp(ip)));
  }

  serviceByVip(ip: string): Service | undefined {
    return lastClaim(this.ix.vipClaims.get(normalizeIp(ip)));
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

/** A list index over values: which keys a value sits under, and the order of each list. */
interface ListIndex<V extends object> {
  lists: LayeredMap<Claims<V>>;
  keysOf: (v: V) => Iterable<string>;
  has: (v: V, key: string) => boolean;
  order: (a: V, b: V) => number;
  /** A list of one is kept as its value (the IP claims), else every list is an array. */
  single?: boolean;
}

/**
 * `byKey` with the change applied (a new version), and each list index patched under the keys where an
 * old or a new value of a changed key sits; everything else is shared with the previous version.
 */
function applyChange<V extends object>(
  byKey: LayeredMap<V>,
  change: { upsert: readonly V[]; remove: readonly string[] },
  keyOf: (v: V) => string,
  indexes: ReadonlyArray<ListIndex<V>>,
): { byKey: LayeredMap<V>; lists: Array<LayeredMap<Claims<V>>> } {
  const set = new Map<string, V>();
  const removed = new Set<string>();
  // What a key holds with the change applied so far (the change is read in order, removals first).
  const current = (key: string) => (set.has(key) ? set.get(key) : removed.has(key) ? undefined : byKey.get(key));
  const dirty = indexes.map(() => new Set<string>());
  const mark = (v: V | undefined) => {
    if (v)
      indexes.forEach((index, i) => {
        for (const k of index.keysOf(v)) dirty[i]!.add(k);
      });
  };
  for (const key of change.remove) {
    mark(current(key));
    set.delete(key);
    removed.add(key);
  }
  for (const v of change.upsert) {
    const key = keyOf(v);
    mark(current(key));
    mark(v);
    set.set(key, v);
    removed.delete(key);
  }
  const untouched = (v: V) => !set.has(keyOf(v)) && !removed.has(keyOf(v));
  return {
    byKey: byKey.with(set, removed),
    lists: indexes.map((index, i) => patchLists(index, dirty[i]!, untouched, [...set.values()])),
  };
}

/**
 * The next version of `prev` where the lists under `dirty` keys keep their untouched members and gain the
 * upserted ones that belong there, in `order`. Lists of other keys are shared with `prev`.
 */
function patchLists<V extends object>(
  index: ListIndex<V>,
  dirty: ReadonlySet<string>,
  untouched: (v: V) => boolean,
  upserted: readonly V[],
): LayeredMap<Claims<V>> {
  const prev = index.lists;
  if (dirty.size === 0) return prev;
  const set = new Map<string, Claims<V>>();
  const gone: string[] = [];
  for (const key of dirty) {
    const was = prev.get(key);
    const list = was === undefined ? [] : Array.isArray(was) ? was.filter(untouched) : [was].filter(untouched);
    for (const v of upserted) if (index.has(v, key)) list.push(v);
    list.sort(index.order);
    if (list.length) set.set(key, index.single && list.length === 1 ? list[0]! : list);
    else gone.push(key);
  }
  return prev.with(set, gone);
}
