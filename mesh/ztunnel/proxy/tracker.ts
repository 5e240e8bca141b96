// Every proxied connection, so that a policy change can re-check the open ones and a drain can wait
// for them (and, at its deadline, end them).
import type { ConnectionFacts } from "../rbac/evaluate.ts";

export interface TrackedConnection {
  id: number;
  direction: "outbound" | "inbound";
  /** For inbound connections: what policy is evaluated on, and the destination workload's address. */
  facts?: ConnectionFacts;
  /** Ends the connection; `reason` goes to the access log. */
  close(reason: Error): void;
}

export class ConnectionTracker {
  private readonly open = new Map<number, TrackedConnection>();
  private nextId = 1;
  private waiters: Array<() => void> = [];

  newId(): number {
    return this.nextId++;
  }

  add(c: TrackedConnection): () => void {
    this.open.set(c.id, c);
    return () => {
      this.open.delete(c.id);
      if (this.open.size === 0) {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    };
  }

  get size(): number {
    return this.open.size;
  }

  list(): TrackedConnection[] {
    return [...this.open.values()];
  }

  /** Resolves when no connection is open, or after `ms`; returns whether all finished. */
  waitIdle(ms: number): Promise<boolean> {
    if (this.open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  closeAll(reason: Error): void {
    for (const c of [...this.open.values()]) c.close(reason);
  }
}
