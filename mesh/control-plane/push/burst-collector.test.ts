// When the control plane asks V8 for a major collection after whole-config sends: once per burst, after
// every send was answered and it has been quiet (or a silent proxy's wait ran out), only past the threshold, never more often than the interval.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../shared/index.ts";
import { BurstCollector, exposedMajorGc } from "./burst-collector.ts";

const MB = 2 ** 20;

function setup() {
  const clock = new ManualClock();
  let collected = 0;
  const c = new BurstCollector({ collect: () => collected++, clock, thresholdBytes: 16 * MB, quietMs: 1000, minIntervalMs: 30_000, maxWaitMs: 20_000 });
  return { clock, c, collected: () => collected };
}

describe("BurstCollector", () => {
  it("collects once, after a burst past the threshold has been answered and quiet", () => {
    const { clock, c, collected } = setup();
    const answers: Array<() => void> = [];
    for (let i = 0; i < 10; i++) {
      answers.push(c.noteSent(3.2 * MB));
      clock.advance(100);
    }
    // Sent, but the proxies are still reading: their responses may still be queued.
    clock.advance(5000);
    expect(collected()).toBe(0);
    for (const a of answers.slice(0, 9)) a();
    clock.advance(5000);
    expect(collected()).toBe(0);
    answers[9]!();
    // An answer given twice counts once.
    answers[9]!();
    clock.advance(999);
    expect(collected()).toBe(0);
    clock.advance(1);
    expect(collected()).toBe(1);
    clock.advance(60_000);
    expect(collected()).toBe(1);
  });

  it("does not wait longer than maxWaitMs for a proxy that never answers", () => {
    const { clock, c, collected } = setup();
    c.noteSent(10 * MB);
    clock.advance(1000);
    // A second proxy's answer moves the wait on: the burst is not over yet.
    c.noteSent(10 * MB)();
    clock.advance(19_999);
    expect(collected()).toBe(0);
    clock.advance(1);
    expect(collected()).toBe(1);
  });

  it("does nothing for sends that stay under the threshold", () => {
    const { clock, c, collected } = setup();
    for (let i = 0; i < 4; i++) c.noteSent(3.2 * MB)();
    clock.advance(120_000);
    expect(collected()).toBe(0);
  });

  it("waits out the interval after a collection, then collects for what was sent since", () => {
    const { clock, c, collected } = setup();
    c.noteSent(20 * MB)();
    clock.advance(1000);
    expect(collected()).toBe(1);
    c.noteSent(20 * MB)();
    clock.advance(29_999);
    expect(collected()).toBe(1);
    // 30 s after the first collection.
    clock.advance(1);
    expect(collected()).toBe(2);
  });

  it("forgets a pending collection when closed", () => {
    const { clock, c, collected } = setup();
    c.noteSent(20 * MB)();
    c.close();
    clock.advance(10_000);
    expect(collected()).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

describe("exposedMajorGc", () => {
  it("is V8's gc() as a memory-reducing (compact) or plain major collection in its own task when exposed, and absent otherwise", () => {
    const g = globalThis as { gc?: unknown };
    const saved = g.gc;
    try {
      delete g.gc;
      expect(exposedMajorGc("compact")).toBeUndefined();
      const calls: unknown[] = [];
      g.gc = (o: unknown) => calls.push(o);
      exposedMajorGc("compact")!();
      exposedMajorGc("plain")!();
      expect(calls).toEqual([
        { type: "major", execution: "async", flavor: "last-resort" },
        { type: "major", execution: "async" },
      ]);
    } finally {
      if (saved === undefined) delete g.gc;
      else g.gc = saved;
    }
  });
});
