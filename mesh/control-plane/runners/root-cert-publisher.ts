// Publishes the trust bundle (ConfigMap istio-ca-root-cert) into every namespace whose proxies read it,
// as the set of such namespaces changes; changes are debounced, an unchanged set is not republished.
import type { Logger } from "../../shared/index.ts";
import type { ClusterSnapshot, Kind } from "../model/kube.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { isWaypointGateway } from "../waypoints/objects.ts";
import { isEnrolled, LABELS } from "../translate/index.ts";
import { SerialQueue, subscribeNow, type Runner } from "./runner.ts";

/**
 * Namespaces whose proxies read the trust bundle, sorted: those with enrolled pods or the ambient label,
 * with a waypoint Gateway, with sidecar pods, and the control plane's own (ztunnel runs there).
 */
export function trustBundleNamespaces(snap: { [K in "Namespace" | "Pod" | "Gateway"]: Iterable<ClusterSnapshot[K][number]> }, ownNamespace: string): string[] {
  const out = new Set<string>([ownNamespace]);
  const byName = new Map<string, ClusterSnapshot["Namespace"][number]>();
  for (const n of snap.Namespace) {
    byName.set(n.metadata?.name ?? "", n);
    if (n.metadata?.labels?.[LABELS.dataplaneMode] === "ambient") out.add(n.metadata?.name ?? "");
  }
  for (const g of snap.Gateway) if (isWaypointGateway(g)) out.add(g.metadata?.namespace ?? "");
  for (const p of snap.Pod) {
    const ns = p.metadata?.namespace ?? "";
    // A namespace already in the set needs no more of its pods looked at.
    if (out.has(ns)) continue;
    if (p.metadata?.labels?.[LABELS.proxy] === "sidecar" || isEnrolled(p, byName.get(ns))) out.add(ns);
  }
  out.delete("");
  return [...out].sort();
}

/** The kinds the set depends on: other changes (services, policies, routes) leave it as it is. */
const TRUST_BUNDLE_KINDS: readonly Kind[] = ["Namespace", "Pod", "Gateway"];

export interface RootCertPublisherDeps {
  store: ObjectStore;
  ownNamespace: string;
  publish: (namespaces: string[]) => Promise<void>;
  log: Logger;
  debounceMs?: number;
}

export class RootCertPublisher implements Runner {
  readonly name = "root-cert-publisher";
  private readonly deps: RootCertPublisherDeps;
  private readonly queue: SerialQueue;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private published = "";

  constructor(deps: RootCertPublisherDeps) {
    this.deps = deps;
    this.queue = new SerialQueue(deps.log, "publishing the trust bundle");
  }

  start(): void {
    // The first publish is immediate; later changes are debounced.
    let first = true;
    this.unsubscribe = subscribeNow(this.deps.store, (kinds) => {
      if (!first && !TRUST_BUNDLE_KINDS.some((k) => kinds.has(k))) return;
      if (first) {
        first = false;
        return this.publish();
      }
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.publish(), this.deps.debounceMs ?? 500);
    });
  }

  private publish(): void {
    const { store } = this.deps;
    // Scanned in the store's own order, not a sorted snapshot: the result is a set.
    const namespaces = trustBundleNamespaces(
      { Namespace: store.values("Namespace"), Pod: store.values("Pod"), Gateway: store.values("Gateway") },
      this.deps.ownNamespace,
    );
    const key = namespaces.join(",");
    if (key === this.published) return;
    this.published = key;
    this.queue.push(() => this.deps.publish(namespaces));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.timer);
    await this.queue.idle();
  }
}
