// translate: the cluster snapshot -> the resources proxies act on. Pure: no I/O, clock or randomness;
// the same input gives the same, sorted output.
import type { Authorization, HttpRoute, L7Policy, Service, Workload } from "../../api/index.ts";
import type { ClusterSnapshot } from "../model/kube.ts";
import { DEFAULT_TRANSLATE_OPTIONS, type ResourceNote, type TranslateOptions } from "./options.ts";
import { translateGrpcRoutes, translateHttpRoutes, translateL7Policies } from "./l7.ts";
import { STATIC_STRICT_NAME, translatePolicies } from "./policies.ts";
import { matchesSelector, translatePod, translateWorkloads, type PodContext } from "./workloads.ts";
import type { V1Pod } from "../model/kube.ts";
import { compareStrings } from "../../shared/index.ts";

export { DEFAULT_TRANSLATE_OPTIONS, LABELS, type ResourceNote, type TranslateOptions } from "./options.ts";
export { isEnrolled } from "./workloads.ts";
export { appProtocolOf } from "./app-protocol.ts";
export { translateGrpcRoutes, translateHttpRoutes } from "./l7.ts";

export interface Translation {
  workloads: Workload[];
  services: Service[];
  policies: Authorization[];
  /** For waypoints. */
  routes: HttpRoute[];
  l7Policies: L7Policy[];
  notes: ResourceNote[];
}

/**
 * What a translation leaves for the next one. When only Pods changed since, workloads of pods whose
 * objects are unchanged are reused: pod churn then costs the changed pods, not the whole mesh; and when
 * the caller also names the changed pods, nothing else is walked at all.
 */
export interface TranslationMemo {
  /**
   * Owned by whoever holds the memo: translatePodChanges updates it in place, and the workloads and
   * notes arrays of `translation` too.
   */
  pods: Map<string, { pod: V1Pod; workload: Workload }>;
  /** Everything below depends on no pod. */
  ctx: PodContext;
  selected: (pod: V1Pod) => string[];
  translation: Translation;
  /** Notes about pods, by pod key; the other notes are in `translation` with them. */
  podNotes: Map<string, ResourceNote>;
}

export interface PreviousTranslation {
  memo: TranslationMemo;
  /** Only Pods changed since `memo`. */
  podsOnly: boolean;
}

/** The pods that changed ("namespace/name"), and how to read them now. */
export interface ChangedPods {
  keys: ReadonlySet<string>;
  get: (key: string) => V1Pod | undefined;
}

/** The workloads a pod change replaced or added (`upserted`) and the uids it dropped (`removed`). */
export interface WorkloadChanges {
  upserted: Workload[];
  removed: string[];
}

const byNote = (a: ResourceNote, b: ResourceNote) => compareStrings(`${a.kind}/${a.namespace}/${a.name}`, `${b.kind}/${b.namespace}/${b.name}`);

export function translate(snap: ClusterSnapshot, opts: TranslateOptions = DEFAULT_TRANSLATE_OPTIONS): Translation {
  return translateIncremental(snap, opts).translation;
}

/** Pure: the same inputs (snapshot, options, memo and the caller's claims about what changed) give the same output. */
export function translateIncremental(
  snap: ClusterSnapshot,
  opts: TranslateOptions,
  previous?: PreviousTranslation,
): { translation: Translation; memo: TranslationMemo } {
  const p = translatePolicies(snap.AuthorizationPolicy, snap.PeerAuthentication, opts);
  const byNs = new Map<string, Array<[string, Record<string, string>]>>();
  for (const [key, s] of p.selectors) {
    const list = byNs.get(s.namespace);
    if (list) list.push([key, s.matchLabels]);
    else byNs.set(s.namespace, [[key, s.matchLabels]]);
  }
  const strictKey = `${opts.rootNamespace}/${STATIC_STRICT_NAME}`;
  const selected = (pod: ClusterSnapshot["Pod"][number]) => {
    const keys = (byNs.get(pod.metadata?.namespace ?? "") ?? []).filter(([, labels]) => matchesSelector(labels, pod.metadata?.labels)).map(([key]) => key);
    if (p.strictFor(pod.metadata?.namespace ?? "", pod.metadata?.labels)) keys.push(strictKey);
    return keys.sort();
  };
  const w = translateWorkloads(snap, opts, selected, previous?.podsOnly ? previous.memo.pods : undefined);
  const r = translateHttpRoutes(snap.HTTPRoute, opts);
  const g = translateGrpcRoutes(snap.GRPCRoute ?? [], opts);
  const routes = g.routes.length ? [...r.routes, ...g.routes].sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)) : r.routes;
  const l7 = translateL7Policies(snap.AuthorizationPolicy);
  const notes = [...p.notes, ...w.notes, ...r.notes, ...g.notes, ...l7.notes].sort(byNote);
  const translation = { workloads: w.workloads, services: w.services, policies: p.policies, routes, l7Policies: l7.policies, notes };
  const podNotes = new Map(notes.filter((n) => n.kind === "Pod").map((n) => [`${n.namespace}/${n.name}`, n]));
  return { translation, memo: { pods: w.byPod, ctx: w.ctx, selected, translation, podNotes } };
}

/**
 * Only the named pods changed since `memo` (nothing else): re-translates them and splices their
 * workloads and notes into the previous translation; nothing else is walked. Gives what a full
 * translation would (translate-incremental.test.ts checks it on random change sequences).
 * It takes `memo` over: its pod maps and its translation's workloads and notes arrays are updated in
 * place (copying 10,000 entries per change was a seventh of the control plane's work, and copying the
 * arrays made a change at 50,000 pods cost more than at 10,000), so the caller must use only the memo
 * returned, and an earlier translation's arrays are not its own any more.
 */
export function translatePodChanges(
  memo: TranslationMemo,
  changed: ChangedPods,
): { translation: Translation; memo: TranslationMemo; changes: WorkloadChanges } {
  const { pods, podNotes } = memo;
  const workloads = memo.translation.workloads;
  const upserted = new Map<string, Workload>();
  const removed = new Set<string>();
  const indexOf = (uid: string) => {
    let lo = 0;
    let hi = workloads.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareStrings(workloads[mid]!.uid, uid) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Notes stay sorted by binary insertion: a pod's note is the only one with its kind/namespace/name, so
  // this is the order sorting them all gives (re-sorting every note per change grew with the cluster).
  const notes = memo.translation.notes;
  const noteIndex = (n: ResourceNote) => {
    let lo = 0;
    let hi = notes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byNote(notes[mid]!, n) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const key of changed.keys) {
    const before = pods.get(key);
    const pod = changed.get(key);
    const r = pod ? translatePod(pod, memo.ctx, memo.selected) : {};
    if (before) {
      workloads.splice(indexOf(before.workload.uid), 1);
      pods.delete(key);
      upserted.delete(before.workload.uid);
      removed.add(before.workload.uid);
    }
    const oldNote = podNotes.get(key);
    if (oldNote) notes.splice(noteIndex(oldNote), 1);
    podNotes.delete(key);
    if (r.note) {
      podNotes.set(key, r.note);
      notes.splice(noteIndex(r.note), 0, r.note);
    }
    if (r.workload && pod) {
      workloads.splice(indexOf(r.workload.uid), 0, r.workload);
      pods.set(key, { pod, workload: r.workload });
      removed.delete(r.workload.uid);
      upserted.set(r.workload.uid, r.workload);
    }
  }
  const translation = { ...memo.translation, workloads, notes };
  return { translation, memo: { ...memo, pods, podNotes, translation }, changes: { upserted: [...upserted.values()], removed: [...removed] } };
}
