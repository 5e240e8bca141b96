// Turns store changes into versioned config snapshots: debounce, translate (pure), encode each resource
// once, version it by content hash. Unchanged resources keep their version, so pushes carry only changes.
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { toBinary } from "@bufbuild/protobuf";
import { authorizationToProto, serviceToProto, TYPE_ADDRESS, TYPE_AUTHORIZATION, workloadToProto } from "../../api/index.ts";
import { httpRouteToProto, l7PolicyToProto, TYPE_HTTP_ROUTE, TYPE_L7_POLICY } from "../../api/index.ts";
import { AuthorizationSchema } from "../../api/index.ts";
import { HttpRouteSchema, L7PolicySchema } from "../../api/index.ts";
import { AddressSchema } from "../../api/index.ts";
import { encodeResource, serviceKey } from "../../api/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { Kind } from "../model/kube.ts";
import {
  translateIncremental,
  translatePodChanges,
  type TranslateOptions,
  type Translation,
  type TranslationMemo,
  type WorkloadChanges,
} from "../translate/index.ts";
import type { Workload } from "../../api/index.ts";

export interface VersionedResource {
  name: string;
  version: string;
  /** The whole Resource message (name, version, the value as an Any), encoded once and sent to every proxy as is. */
  encoded: Uint8Array;
}

export interface SnapshotDelta {
  /** The snapshot version this delta starts from. */
  from: number;
  /** Per type: resources added or changed, and names removed. */
  types: Map<string, { changed: VersionedResource[]; removed: string[] }>;
}

export interface PushSnapshot {
  /** Increases with every snapshot that differs from the previous one. */
  version: number;
  /** What changed since the previous snapshot, so a push to an up-to-date proxy need not compare everything. */
  delta?: SnapshotDelta;
  /** When the first store change this snapshot reflects happened (ms, performance.now()). */
  changedAt: number;
  types: Map<string, Map<string, VersionedResource>>;
  translation: Translation;
}

export type SnapshotListener = (s: PushSnapshot) => void;

/** A resource's value encoded once: its version is the hash of those bytes, its Resource message wraps them. */
function versioned(name: string, typeUrl: string, bytes: Uint8Array): VersionedResource {
  const version = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  return { name, version, encoded: encodeResource(name, version, typeUrl, bytes) };
}

function encodeWorkload(w: Workload): VersionedResource {
  return versioned(w.uid, TYPE_ADDRESS, toBinary(AddressSchema, workloadToProto(w)));
}

/**
 * The resources after a change to pods only: the previous maps, with the changed workloads re-encoded and
 * the dropped ones removed; what actually changed comes back as the delta. O(changes), where
 * buildResources walks and compares every resource. It takes `prev`'s address map over and updates it in
 * place (copying 12,000 entries per change was a seventh of the control plane's work): the previous
 * snapshot is superseded, and pushes read only the current one, synchronously.
 */
export function patchWorkloads(
  prev: PushSnapshot,
  changes: WorkloadChanges,
  cache: EncodeCache,
): { types: Map<string, Map<string, VersionedResource>>; delta: SnapshotDelta } {
  const addresses = prev.types.get(TYPE_ADDRESS) ?? new Map<string, VersionedResource>();
  const changed: VersionedResource[] = [];
  const removed: string[] = [];
  for (const uid of changes.removed) {
    cache.delete(`a:${uid}`);
    if (addresses.delete(uid)) removed.push(uid);
  }
  for (const w of changes.upserted) {
    const cached = cache.get(`a:${w.uid}`);
    const encoded = cached && (cached.source === w || isDeepStrictEqual(cached.source, w)) ? cached.encoded : encodeWorkload(w);
    cache.set(`a:${w.uid}`, { source: w, encoded });
    const old = addresses.get(w.uid);
    addresses.set(w.uid, encoded);
    if (old?.version !== encoded.version) changed.push(encoded);
  }
  const types = new Map(prev.types);
  types.set(TYPE_ADDRESS, addresses);
  const delta: SnapshotDelta = { from: prev.version, types: new Map([...types.keys()].map((t) => [t, { changed: [], removed: [] }])) };
  delta.types.set(TYPE_ADDRESS, { changed, removed: removed.sort() });
  return { types, delta };
}

/** Previously encoded resources by name, with the value they were encoded from. */
export type EncodeCache = Map<string, { source: unknown; encoded: VersionedResource }>;

/**
 * Translation -> typed resource maps. Encoding every resource on every change would dominate push
 * latency in a large cluster, so a resource whose value is unchanged reuses its previous encoding.
 */
export function buildResources(t: Translation, cache: EncodeCache = new Map()): Map<string, Map<string, VersionedResource>> {
  const next: EncodeCache = new Map();
  const encode = <T>(name: string, source: T, make: (v: T) => VersionedResource): VersionedResource => {
    const prev = cache.get(name);
    const encoded = prev && (prev.source === source || isDeepStrictEqual(prev.source, source)) ? prev.encoded : make(source);
    next.set(name, { source, encoded });
    return encoded;
  };
  const addresses = new Map<string, VersionedResource>();
  for (const w of t.workloads) addresses.set(w.uid, encode(`a:${w.uid}`, w, encodeWorkload));
  for (const s of t.services) {
    const name = serviceKey(s);
    addresses.set(
      name,
      encode(`a:${name}`, s, (v) => {
        return versioned(name, TYPE_ADDRESS, toBinary(AddressSchema, serviceToProto(v)));
      }),
    );
  }
  const policies = new Map<string, VersionedResource>();
  for (const p of t.policies) {
    const name = `${p.namespace}/${p.name}`;
    policies.set(
      name,
      encode(`p:${name}`, p, (v) => {
        return versioned(name, TYPE_AUTHORIZATION, toBinary(AuthorizationSchema, authorizationToProto(v)));
      }),
    );
  }
  const routes = new Map<string, VersionedResource>();
  for (const r of t.routes) {
    const name = `${r.namespace}/${r.name}`;
    routes.set(
      name,
      encode(`r:${name}`, r, (v) => {
        return versioned(name, TYPE_HTTP_ROUTE, toBinary(HttpRouteSchema, httpRouteToProto(v)));
      }),
    );
  }
  const l7 = new Map<string, VersionedResource>();
  for (const p of t.l7Policies) {
    const name = `${p.namespace}/${p.name}`;
    l7.set(
      name,
      encode(`l:${name}`, p, (v) => {
        return versioned(name, TYPE_L7_POLICY, toBinary(L7PolicySchema, l7PolicyToProto(v)));
      }),
    );
  }
  cache.clear();
  for (const [k, v] of next) cache.set(k, v);
  return new Map([
    [TYPE_ADDRESS, addresses],
    [TYPE_AUTHORIZATION, policies],
    [TYPE_HTTP_ROUTE, routes],
    [TYPE_L7_POLICY, l7],
  ]);
}

function diff(prev: PushSnapshot, types: Map<string, Map<string, VersionedResource>>): SnapshotDelta {
  const out: SnapshotDelta = { from: prev.version, types: new Map() };
  for (const [type, cur] of types) {
    const old = prev.types.get(type) ?? new Map<string, VersionedResource>();
    const changed: VersionedResource[] = [];
    for (const r of cur.values()) if (old.get(r.name)?.version !== r.version) changed.push(r);
    const removed: string[] = [];
    for (const name of old.keys()) if (!cur.has(name)) removed.push(name);
    out.types.set(type, { changed, removed: removed.sort() });
  }
  return out;
}

export class SnapshotBuilder {
  private readonly store: ObjectStore;
  private readonly opts: TranslateOptions;
  private readonly debounceMs: number;
  private readonly log: Logger;
  private readonly listeners = new Set<SnapshotListener>();
  private timer: NodeJS.Timeout | undefined;
  private firstChangeAt: number | undefined;
  /** Kinds changed since the last translation. */
  private readonly changedKinds = new Set<Kind>();
  private memo: TranslationMemo | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly encodeCache: EncodeCache = new Map();
  current: PushSnapshot | undefined;
  /** Duration of the last translation, ms. */
  lastTranslateMs = 0;

  constructor(opts: { store: ObjectStore; translate: TranslateOptions; debounceMs: number; log: Logger }) {
    this.store = opts.store;
    this.opts = opts.translate;
    this.debounceMs = opts.debounceMs;
    this.log = opts.log;
  }

  start(): void {
    this.unsubscribe = this.store.subscribe((kinds) => {
      for (const k of kinds) this.changedKinds.add(k);
      this.firstChangeAt ??= performance.now();
      // Debounce: a burst of changes (a relist, a rollout) becomes one translation and one push.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.rebuild(), this.debounceMs);
    });
  }

  /** Translates now (tests, and flushing before shutdown). */
  rebuild(): PushSnapshot | undefined {
    clearTimeout(this.timer);
    const changedAt = this.firstChangeAt ?? performance.now();
    this.firstChangeAt = undefined;
    const t0 = performance.now();
    // Nothing changed since the last translation (a flush with no store change in between): nothing to do.
    if (this.memo && this.current && this.changedKinds.size === 0) return this.current;
    const podsOnly = this.memo !== undefined && this.changedKinds.size > 0 && [...this.changedKinds].every((k) => k === "Pod");
    this.changedKinds.clear();
    const podKeys = this.store.takeChanges().get("Pod");
    const prev = this.current;
    let translation: Translation;
    let types: Map<string, Map<string, VersionedResource>>;
    let delta: SnapshotDelta | undefined;
    if (podsOnly && this.memo && prev && podKeys && podKeys !== "all") {
      // Pods changed and we know which: work proportional to them (issue 13), nothing else is walked.
      const r = translatePodChanges(this.memo, { keys: podKeys, get: (k) => this.store.get("Pod", k) });
      this.memo = r.memo;
      translation = r.translation;
      ({ types, delta } = patchWorkloads(prev, r.changes, this.encodeCache));
    } else {
      const result = translateIncremental(this.store.snapshot(), this.opts, this.memo ? { memo: this.memo, podsOnly } : undefined);
      this.memo = result.memo;
      translation = result.translation;
      types = buildResources(translation, this.encodeCache);
      if (prev) delta = diff(prev, types);
    }
    this.lastTranslateMs = performance.now() - t0;
    const unchanged = delta ? [...delta.types.values()].every((c) => c.changed.length === 0 && c.removed.length === 0) : false;
    if (prev && unchanged) {
      this.current = { ...prev, translation };
      return this.current;
    }
    const snap: PushSnapshot = { version: (prev?.version ?? 0) + 1, changedAt, types, translation, ...(delta ? { delta } : {}) };
    this.current = snap;
    this.log.info(
      {
        version: snap.version,
        workloads: translation.workloads.length,
        services: translation.services.length,
        policies: translation.policies.length,
        translateMs: Math.round(this.lastTranslateMs),
      },
      "config translated",
    );
    for (const l of this.listeners) l(snap);
    return snap;
  }

  subscribe(l: SnapshotListener): () => void {
    this.listeners.add(l);
    if (this.current) l(this.current);
    return () => this.listeners.delete(l);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }
}
