// Writes each AuthorizationPolicy's status (accepted, or why not) after every translation.
import type { Logger } from "../../shared/index.ts";
import type { SnapshotBuilder } from "../push/snapshot.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { Translation } from "../translate/index.ts";
import { SerialQueue, type Runner } from "./runner.ts";

export type StatusUpdate = (t: Translation, allPolicyKeys: string[], waypointKeys: ReadonlySet<string>) => Promise<void>;

export class PolicyStatusRunner implements Runner {
  readonly name = "policy-status";
  private readonly deps: { store: ObjectStore; builder: Pick<SnapshotBuilder, "subscribe">; update: StatusUpdate; log: Logger };
  private readonly queue: SerialQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: { store: ObjectStore; builder: Pick<SnapshotBuilder, "subscribe">; update: StatusUpdate; log: Logger }) {
    this.deps = deps;
    this.queue = new SerialQueue(deps.log, "writing policy status");
  }

  start(): void {
    this.unsubscribe = this.deps.builder.subscribe((snap) => {
      const aps = this.deps.store.snapshot().AuthorizationPolicy;
      const key = (p: (typeof aps)[number]) => `${p.metadata?.namespace}/${p.metadata?.name}`;
      // Policies attached to a waypoint (targetRef/targetRefs) get their status from the waypoint's view.
      const waypointKeys = new Set(aps.filter((p) => p.spec?.targetRef || p.spec?.targetRefs?.length).map(key));
      this.queue.push(() => this.deps.update(snap.translation, aps.map(key), waypointKeys));
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.queue.idle();
  }
}
