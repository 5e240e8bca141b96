// File mode: a bootstrap token for every node, waypoint and sidecar service account the config names,
// rotated at half-life (the previous token stays valid until it expires).
import type { Logger } from "../../shared/index.ts";
import { identityTokenName } from "../auth/authenticator.ts";
import type { BootstrapTokens } from "../auth/bootstrap-tokens.ts";
import type { ClusterSnapshot } from "../model/kube.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { LABELS } from "../translate/index.ts";
import { isWaypointGateway } from "../waypoints/objects.ts";
import { SerialQueue, subscribeNow, type Runner } from "./runner.ts";

/** Who needs a token: nodes (ztunnels), waypoints (named after their Gateway) and sidecar pods' service accounts. */
export function bootstrapTokenNames(snap: ClusterSnapshot): string[] {
  const nodes = [...snap.Node.map((n) => n.metadata?.name ?? ""), ...snap.Pod.map((p) => p.spec?.nodeName ?? "")];
  const waypoints = snap.Gateway.filter(isWaypointGateway).map((g) => identityTokenName(g.metadata?.namespace ?? "", g.metadata?.name ?? ""));
  const sidecars = snap.Pod.filter((p) => p.metadata?.labels?.[LABELS.proxy] === "sidecar").map((p) =>
    identityTokenName(p.metadata?.namespace ?? "", p.spec?.serviceAccountName || "default"),
  );
  return [...new Set([...nodes, ...waypoints, ...sidecars])].filter(Boolean).sort();
}

export class BootstrapTokenKeeper implements Runner {
  readonly name = "bootstrap-tokens";
  private readonly deps: { store: ObjectStore; tokens: Pick<BootstrapTokens, "ensure" | "rotate" | "rotationCheckMs">; log: Logger };
  private readonly queue: SerialQueue;
  private unsubscribe: (() => void) | undefined;
  private interval: NodeJS.Timeout | undefined;

  constructor(deps: { store: ObjectStore; tokens: Pick<BootstrapTokens, "ensure" | "rotate" | "rotationCheckMs">; log: Logger }) {
    this.deps = deps;
    this.queue = new SerialQueue(deps.log, "writing bootstrap tokens");
  }

  start(): void {
    const ensure = () => this.queue.push(() => this.deps.tokens.ensure(bootstrapTokenNames(this.deps.store.snapshot())));
    this.unsubscribe = subscribeNow(this.deps.store, ensure);
    this.interval = setInterval(() => this.queue.push(() => this.deps.tokens.rotate()), this.deps.tokens.rotationCheckMs);
    this.interval.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.interval);
    await this.queue.idle();
  }
}
