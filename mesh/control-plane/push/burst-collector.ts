// Returns the memory of a burst of whole-config sends once the burst is over. Each proxy that connects
// fresh gets every resource (3.2 MB for 10,000 pods), and on its way out the response is copied by the
// serializer and by the gRPC envelope: 10 proxies after a control-plane restart leave ~65 MB of dead
// ArrayBuffers. V8 frees an ArrayBuffer only when it collects the object holding it, and it runs no major
// collection while the old generation has room: it tolerates up to ~64 MB of external memory growth before
// forcing one. Measured: 85 MB of external memory held minutes after the sync, 3.5 MB of it live (issue 13).
// So after a burst is over, and only if it sent enough to matter, we ask for one major collection, in a
// task of its own (`execution: "async"`: never inside a push), at most once per interval. Its pause is that
// of any major collection of this heap (the gc duration metric shows it).
// A burst is over when every whole-config response of it has been answered (ACK, NACK or the stream
// gone) and nothing was sent for a moment. Until a proxy answers, its response may still sit in the
// HTTP/2 send queue (collecting then frees nothing), and the proxies are still reading: on a machine
// the control plane shares with them (the benchmark, a kind node), a collection started when the last
// response was queued took one core for ~1.6 s in the middle of 10 proxies' first sync. A proxy that
// never answers does not hold the collection back for longer than `maxWaitMs`.
import type { Clock } from "../../shared/index.ts";

/** V8's gc(), when the process runs with --expose-gc (the control-plane image does). */
export type MajorGc = () => void;

export interface BurstCollectorOptions {
  collect: MajorGc;
  clock: Clock;
  /** Whole-config bytes sent since the last collection that make one worth it. */
  thresholdBytes?: number;
  /** How long the sends must have stopped before collecting (a burst of reconnects is one burst). */
  quietMs?: number;
  /** The least time between two collections, whatever is sent. */
  minIntervalMs?: number;
  /** How long unanswered sends may delay a collection after the last send or answer. */
  maxWaitMs?: number;
}

export class BurstCollector {
  private readonly collect: MajorGc;
  private readonly clock: Clock;
  private readonly thresholdBytes: number;
  private readonly quietMs: number;
  private readonly minIntervalMs: number;
  private readonly maxWaitMs: number;
  private sent = 0;
  /** Whole-config sends not yet answered. */
  private unanswered = 0;
  private timer: { cancel(): void } | undefined;
  private lastCollectAt = Number.NEGATIVE_INFINITY;
  /** How many collections were asked for (for metrics and tests). */
  collections = 0;

  constructor(o: BurstCollectorOptions) {
    this.collect = o.collect;
    this.clock = o.clock;
    this.thresholdBytes = o.thresholdBytes ?? 16 * 2 ** 20;
    this.quietMs = o.quietMs ?? 1000;
    this.minIntervalMs = o.minIntervalMs ?? 10_000;
    this.maxWaitMs = o.maxWaitMs ?? 30_000;
  }

  /**
   * A whole-config response of `bytes` was queued for a proxy. Returns what to call once the proxy has
   * answered it or its stream is gone (calling it again does nothing).
   */
  noteSent(bytes: number): () => void {
    this.sent += bytes;
    this.unanswered++;
    this.schedule();
    let answered = false;
    return () => {
      if (answered) return;
      answered = true;
      this.unanswered--;
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.sent < this.thresholdBytes) return;
    this.timer?.cancel();
    const quiet = this.unanswered > 0 ? this.maxWaitMs : this.quietMs;
    const wait = Math.max(quiet, this.lastCollectAt + this.minIntervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.timer = undefined;
    this.sent = 0;
    this.lastCollectAt = this.clock.now();
    this.collections++;
    this.collect();
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/**
 * The process's gc() as a MajorGc, if it was exposed (--expose-gc); undefined otherwise. "compact" is V8's
 * memory-reducing collection ("last-resort" flavor): besides the garbage it compacts the old generation,
 * shrinks the young one and gives the freed pages back. Side by side in bench:control-plane, a plain major
 * collection left 258-296 MB resident after 10 proxies synced, this one 180-203 MB; but it is several
 * collections in a row, a pause of ~1.2 s at 10,000 pods and ~2.2 s at 50,000 (CPU profiles), against one
 * collection for "plain". It also discards bytecode, which cost 20-25 % more CPU per change and per
 * certificate while V8 compiled it again: the image runs node with --no-flush-bytecode.
 */
export function exposedMajorGc(kind: "compact" | "plain"): MajorGc | undefined {
  const gc = (globalThis as { gc?: (o: { type: "major"; execution: "async"; flavor?: "last-resort" }) => unknown }).gc;
  if (!gc) return undefined;
  return kind === "compact"
    ? () => void gc({ type: "major", execution: "async", flavor: "last-resort" })
    : () => void gc({ type: "major", execution: "async" });
}
