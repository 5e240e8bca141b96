// Publishes the trust bundle (ConfigMap istio-ca-root-cert) into every namespace whose proxies read it,
// as the set of such namespaces changes; changes are debounced, an unchanged set is not republished.
import type { Logger } from "../../shared/index.ts";
import type { ClusterSnapshot } from "../model/kube.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { isWaypointGateway } from "../waypoints/objects.ts";
import { isEnrolled, LABELS } from "../translate/index.ts";
import { SerialQueue, subscribeNow, type Runner } from "./runner.ts";

/**
 * Namespaces whose proxies read the trust bundle, sorted: those with enrolled pods or the ambient label,
 * with a waypoint Gateway, with sidecar pods, and the control plane's own (ztunnel runs there).
 */
export function trustBundleNamespaces(snap: ClusterSnapshot, ownNamespace: string): string[] {
  const byName = new Map(snap.Namespace.map((n) => [n.metadata?.name ?? "", n]));
  const enrolled = snap.Pod.filter((p) => isEnrolled(p, byName.get(p.metadata?.namespace ?? ""))).map((p) => p.metadata?.namespace ?? "");
  const labelled = snap.Namespace.filter((n) => n.metadata?.labels?.[LABELS.dataplaneMode] === "ambient").map((n) => n.metadata?.name ?? "");
  const withWaypoints = snap.Gateway.filter(isWaypointGateway).map((g) => g.metadata?.namespace ?? "");
  const withSidecars = snap.Pod.filter((p) => p.metadata?.labels?.[LABELS.proxy] === "sidecar").map((p) => p.metadata?.namespace ?? "");
  return [...new Set([...enrolled, ...labelled, ...withWaypoints, ...withSidecars, ownNamespace])].filter(Boolean).sort();
}

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
    this.unsubscribe = subscribeNow(this.deps.store, () => {
      if (first) {
        first = false;
        return this.publish();
      }
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.publish(), this.deps.debounceMs ?? 500);
    });
  }

  private publish(): void {
    const namespaces = trustBundleNamespaces(this.deps.store.snapshot(), this.deps.ownNamespace);
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
