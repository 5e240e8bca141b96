// A side pipeline of the control plane (deploying waypoints, writing policy status, publishing the trust
// bundle, keeping bootstrap tokens): started once the control plane serves, stopped before it stops.
import { describeError, type Logger } from "../../shared/index.ts";
import { KINDS, type Kind } from "../model/kube.ts";
import type { ObjectStore } from "../store/object-store.ts";

export interface Runner {
  readonly name: string;
  start(): void;
  /** Stops reacting to changes and waits for the work in flight. Idempotent. */
  stop(): Promise<void>;
}

/** Runs jobs one after another; a failing job is logged and the next still runs. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly what: string;

  constructor(log: Logger, what: string) {
    this.log = log;
    this.what = what;
  }

  push(job: () => Promise<void>): void {
    this.tail = this.tail.then(job).catch((err: unknown) => this.log.error({ err: describeError(err) }, `${this.what} failed`));
  }

  /** Resolves when every job pushed so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * Subscribes and makes sure the listener runs once now, with every kind: the store calls a new
 * subscriber at once only when it has had changes, and a runner must act on an empty store too.
 */
export function subscribeNow(store: ObjectStore, listener: (kinds: ReadonlySet<Kind>) => void): () => void {
  let called = false;
  const unsubscribe = store.subscribe((kinds) => {
    called = true;
    listener(kinds);
  });
  if (!called) listener(new Set(Object.keys(KINDS) as Kind[]));
  return unsubscribe;
}
