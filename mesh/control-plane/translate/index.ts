// translate: the cluster snapshot -> the resources proxies act on. Pure: no I/O, clock or randomness;
// the same input gives the same, sorted output.
import type { Authorization, HttpRoute, L7Policy, Service, Workload } from "../../api/index.ts";
import type { ClusterSnapshot } from "../model/kube.ts";
import { DEFAULT_TRANSLATE_OPTIONS, type ResourceNote, type TranslateOptions } from "./options.ts";
import { translateHttpRoutes, translateL7Policies } from "./l7.ts";
import { STATIC_STRICT_NAME, translatePolicies } from "./policies.ts";
import { matchesSelector, translateWorkloads, type PodReuse } from "./workloads.ts";
import { compareStrings } from "../../shared/index.ts";

export { DEFAULT_TRANSLATE_OPTIONS, LABELS, type ResourceNote, type TranslateOptions } from "./options.ts";
export { isEnrolled } from "./workloads.ts";

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
 * objects are unchanged are reused: pod churn then costs the changed pods, not the whole mesh.
 */
export interface TranslationMemo {
  pods: PodReuse;
}

export function translate(snap: ClusterSnapshot, opts: TranslateOptions = DEFAULT_TRANSLATE_OPTIONS): Translation {
  return translateIncremental(snap, opts).translation;
}

/** Pure: the same inputs (snapshot, options, memo and the podsOnly claim) give the same output. */
export function translateIncremental(
  snap: ClusterSnapshot,
  opts: TranslateOptions,
  previous?: { memo: TranslationMemo; podsOnly: boolean },
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
  const l7 = translateL7Policies(snap.AuthorizationPolicy);
  const notes = [...p.notes, ...w.notes, ...r.notes, ...l7.notes].sort((a, b) =>
    compareStrings(`${a.kind}/${a.namespace}/${a.name}`, `${b.kind}/${b.namespace}/${b.name}`),
  );
  return {
    translation: { workloads: w.workloads, services: w.services, policies: p.policies, routes: r.routes, l7Policies: l7.policies, notes },
    memo: { pods: w.byPod },
  };
}
