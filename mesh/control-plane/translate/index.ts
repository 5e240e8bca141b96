// translate: the cluster snapshot -> the resources proxies act on. Pure: no I/O, clock or randomness;
// the same input gives the same, sorted output.
import type { Authorization, Service, Workload } from "../../api/types.ts";
import type { ClusterSnapshot } from "../model/kube.ts";
import { DEFAULT_TRANSLATE_OPTIONS, type ResourceNote, type TranslateOptions } from "./options.ts";
import { translatePolicies } from "./policies.ts";
import { matchesSelector, translateWorkloads } from "./workloads.ts";
import { compareStrings } from "../../shared/compare.ts";

export { DEFAULT_TRANSLATE_OPTIONS, LABELS, type ResourceNote, type TranslateOptions } from "./options.ts";
export { isEnrolled } from "./workloads.ts";

export interface Translation {
  workloads: Workload[];
  services: Service[];
  policies: Authorization[];
  notes: ResourceNote[];
}

export function translate(snap: ClusterSnapshot, opts: TranslateOptions = DEFAULT_TRANSLATE_OPTIONS): Translation {
  const p = translatePolicies(snap.AuthorizationPolicy, snap.PeerAuthentication, opts);
  const byNs = new Map<string, Array<[string, Record<string, string>]>>();
  for (const [key, s] of p.selectors) {
    const list = byNs.get(s.namespace);
    if (list) list.push([key, s.matchLabels]);
    else byNs.set(s.namespace, [[key, s.matchLabels]]);
  }
  const selected = (pod: ClusterSnapshot["Pod"][number]) =>
    (byNs.get(pod.metadata?.namespace ?? "") ?? [])
      .filter(([, labels]) => matchesSelector(labels, pod.metadata?.labels))
      .map(([key]) => key)
      .sort();
  const w = translateWorkloads(snap, opts, selected);
  const notes = [...p.notes, ...w.notes].sort((a, b) => compareStrings(`${a.kind}/${a.namespace}/${a.name}`, `${b.kind}/${b.namespace}/${b.name}`));
  return { workloads: w.workloads, services: w.services, policies: p.policies, notes };
}
