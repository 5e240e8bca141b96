// Keeps each istio-waypoint Gateway's Deployment and Service in step with the Gateways in the store.
import type { Logger } from "../../shared/index.ts";
import type { Gateway } from "../model/kube.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { SerialQueue, subscribeNow, type Runner } from "./runner.ts";

export class WaypointSync implements Runner {
  readonly name = "waypoint-sync";
  private readonly deps: { store: ObjectStore; sync: (gateways: readonly Gateway[]) => Promise<void>; log: Logger };
  private readonly queue: SerialQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: { store: ObjectStore; sync: (gateways: readonly Gateway[]) => Promise<void>; log: Logger }) {
    this.deps = deps;
    this.queue = new SerialQueue(deps.log, "deploying waypoints");
  }

  start(): void {
    // Syncs run one at a time, each with the Gateways as they are when it starts.
    const sync = () => this.queue.push(() => this.deps.sync(this.deps.store.snapshot().Gateway));
    this.unsubscribe = subscribeNow(this.deps.store, (kinds) => {
      if (kinds.has("Gateway")) sync();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.queue.idle();
  }
}
