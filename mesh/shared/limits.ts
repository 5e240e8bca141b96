// Bounds on what a peer can hold, and logging that an attacker cannot turn into a disk-filling flood.
// Every limit hit is counted (a metric per proxy) and logged at most a few times per interval per kind,
// with the number of lines suppressed since the last one.
import type { Logger } from "./logging.ts";

/** Counts holders per key (a source address, an identity) and refuses past `max`. */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a slot for `key`; returns a release function (idempotent), or undefined when `key` is at the limit. */
  acquire(key: string): (() => void) | undefined {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return undefined;
    this.counts.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys currently holding a slot: bounded by the peers that exist, and empty when they are gone. */
  get size(): number {
    return this.counts.size;
  }
}

export interface RateLimitOptions {
  /** Lines allowed per key per interval. */
  burst: number;
  intervalMs: number;
  now?: () => number;
}

/**
 * A logger front that lets `burst` lines per key through each interval and drops the rest, reporting
 * how many were dropped on the next line that passes (`suppressed`). Keys are a small fixed set
 * (the kind of event), never something a peer chooses, so the key map stays bounded.
 */
export class RateLimitedLog {
  private readonly log: Logger;
  private readonly opts: Required<RateLimitOptions>;
  private readonly windows = new Map<string, { start: number; sent: number; suppressed: number }>();

  constructor(log: Logger, opts: Partial<RateLimitOptions> = {}) {
    this.log = log;
    this.opts = { burst: 5, intervalMs: 10_000, now: Date.now, ...opts };
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.emit("warn", key, fields, msg);
  }

  info(key: string, fields: Record<string, unknown>, msg: string): void {
    this.emit("info", key, fields, msg);
  }

  error(key: string, fields: Record<string, unknown>, msg: string): void {
    this.emit("error", key, fields, msg);
  }

  private emit(level: "warn" | "info" | "error", key: string, fields: Record<string, unknown>, msg: string): void {
    if (!this.log.isLevelEnabled(level)) return;
    const now = this.opts.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.intervalMs) {
      const carried = w?.suppressed ?? 0;
      w = { start: now, sent: 0, suppressed: carried };
      this.windows.set(key, w);
    }
    if (w.sent >= this.opts.burst) {
      w.suppressed++;
      return;
    }
    w.sent++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    this.log[level](suppressed ? { ...fields, suppressed } : fields, msg);
  }
}
