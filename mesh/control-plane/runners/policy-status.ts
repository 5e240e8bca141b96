// Writes each AuthorizationPolicy's status (accepted, or why not) after every translation, and each
// mesh HTTPRoute's (route-status.ts).
import type { Logger } from "../../shared/index.ts";
import type { SnapshotBuilder } from "../push/snapshot.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { Translation } from "../translate/index.ts";
import type { GRPCRoute, HTTPRoute } from "../model/kube.ts";
import { SerialQueue, type Runner } from "./runner.ts";

export type StatusUpdate = (
  t: Translation,
  allPolicyKeys: string[],
  waypointKeys: ReadonlySet<string>,
  routes: ReadonlyArray<HTTPRoute | GRPCRoute>,
) => Promise<void>;

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

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
    let last: { policies: unknown; l7: unknown; routes: unknown; notes: readonly unknown[] } | undefined;
    this.unsubscribe = this.deps.builder.subscribe((snap) => {
      const t = snap.translation;
      // Statuses follow the policies and the notes about non-pod objects: a change to pods alone (the
      // common one, which keeps those arrays) needs no status work.
      const notes = t.notes.filter((n) => n.kind !== "Pod");
      if (last && last.policies === t.policies && last.l7 === t.l7Policies && last.routes === t.routes && sameItems(last.notes, notes)) return;
      last = { policies: t.policies, l7: t.l7Policies, routes: t.routes, notes };
      const aps = this.deps.store.list("AuthorizationPolicy");
      const key = (p: (typeof aps)[number]) => `${p.metadata?.namespace}/${p.metadata?.name}`;
      // Policies attached to a waypoint (targetRef/targetRefs) get their status from the waypoint's view.
      const waypointKeys = new Set(aps.filter((p) => p.spec?.targetRef || p.spec?.targetRefs?.length).map(key));
      const routes = [...this.deps.store.list("HTTPRoute"), ...this.deps.store.list("GRPCRoute")];
      this.queue.push(() => this.deps.update(snap.translation, aps.map(key), waypointKeys, routes));
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.queue.idle();
  }
}
