import { describe, expect, it } from "vitest";
import { memoryLogger } from "./logging.ts";
import { KeyedCounter, RateLimitedLog } from "./limits.ts";

describe("KeyedCounter", () => {
  it("refuses past the maximum per key, and forgets a key once every slot is released", () => {
    const c = new KeyedCounter(2);
    const a1 = c.acquire("a")!;
    const a2 = c.acquire("a")!;
    expect(c.acquire("a")).toBeUndefined();
    expect(c.acquire("b")).toBeDefined();
    a1();
    a1(); // idempotent: a double release frees one slot, not two
    expect(c.count("a")).toBe(1);
    a2();
    expect(c.count("a")).toBe(0);
    expect(c.size).toBe(1); // only "b" is left
  });
});

describe("RateLimitedLog", () => {
  it("lets a burst per key through each interval and reports how many it dropped", () => {
    let now = 0;
    const { logger, records } = memoryLogger("info");
    const log = new RateLimitedLog(logger, { burst: 2, intervalMs: 1000, now: () => now });
    for (let i = 0; i < 10; i++) log.warn("a", { i }, "flood");
    log.warn("b", {}, "other kind");
    expect(records.map((r) => [r.msg, r.i])).toEqual([
      ["flood", 0],
      ["flood", 1],
      ["other kind", undefined],
    ]);
    now = 1000;
    log.warn("a", { i: 10 }, "flood");
    expect(records.at(-1)).toMatchObject({ i: 10, suppressed: 8 });
    log.warn("a", { i: 11 }, "flood");
    expect(records.at(-1)).not.toHaveProperty("suppressed");
  });
});
