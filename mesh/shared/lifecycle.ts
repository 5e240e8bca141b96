// The lifecycle every server in the mesh exposes, so tests can bind port 0 and shut down cleanly.
import type { SockAddr } from "./addr.ts";

export interface Server {
  start(): Promise<void>;
  /** The bound address; valid after start(). */
  address(): SockAddr;
  /** Stop accepting, let open work finish until the deadline, then force-close what is left. */
  drain(deadlineMs: number): Promise<void>;
  /** Close now. Idempotent. */
  close(): Promise<void>;
}

/** Readiness as a set of named conditions: ready when none is pending. */
export class Readiness {
  private readonly pending = new Set<string>();

  constructor(conditions: readonly string[] = []) {
    for (const c of conditions) this.pending.add(c);
  }

  require(condition: string): void {
    this.pending.add(condition);
  }

  satisfy(condition: string): void {
    this.pending.delete(condition);
  }

  get ready(): boolean {
    return this.pending.size === 0;
  }

  get waitingFor(): string[] {
    return [...this.pending].sort();
  }
}
