// LayeredMap against a plain Map: random sets and removals across many versions, every version (old ones
// too, which connections may still hold) reading exactly as a Map with the same history, through folds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LayeredMap } from "./layered-map.ts";

type Op = { set: Array<[string, number]>; remove: string[] };
const key = fc.constantFrom(...Array.from({ length: 60 }, (_, i) => `k${i}`));
const op: fc.Arbitrary<Op> = fc.record({ set: fc.array(fc.tuple(key, fc.nat()), { maxLength: 8 }), remove: fc.array(key, { maxLength: 8 }) });

const sorted = (it: Iterable<[string, number]>) => [...it].sort((a, b) => a[0].localeCompare(b[0]));

describe("LayeredMap", () => {
  it("reads as a plain Map after any history, old versions unchanged", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.nat()), { maxLength: 80 }), fc.array(op, { maxLength: 60 }), (initial, ops) => {
        let plain = new Map(initial);
        let layered = LayeredMap.of(new Map(initial));
        const versions: Array<[LayeredMap<number>, Map<string, number>]> = [[layered, new Map(plain)]];
        for (const o of ops) {
          const set = new Map(o.set);
          const next = new Map(plain);
          for (const k of o.remove) if (!set.has(k)) next.delete(k);
          for (const [k, v] of set) next.set(k, v);
          plain = next;
          layered = layered.with(set, o.remove);
          versions.push([layered, new Map(plain)]);
        }
        for (const [l, p] of versions) {
          expect(l.size).toBe(p.size);
          expect(sorted(l.entries())).toEqual(sorted(p.entries()));
          for (let i = 0; i < 60; i++) {
            expect(l.get(`k${i}`)).toBe(p.get(`k${i}`));
            expect(l.has(`k${i}`)).toBe(p.has(`k${i}`));
          }
          expect([...l.keys()].sort()).toEqual([...p.keys()].sort());
          expect([...l.values()].length).toBe(p.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps each version's own layer small: a change to a large map does not copy it", () => {
    const big = LayeredMap.of(new Map(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i])));
    let m = big;
    for (let i = 0; i < 100; i++) m = m.with(new Map([[`k${i}`, -i]]), [`k${9999 - i}`]);
    expect(m.size).toBe(9_900);
    expect(m.get("k5")).toBe(-5);
    expect(m.get("k9999")).toBeUndefined();
    expect(big.get("k5")).toBe(5);
    // The layer is bounded by ~sqrt(2n): 200 changed keys have been folded into a new base at least once.
    expect((m as unknown as { layer: Map<string, unknown> }).layer.size).toBeLessThanOrEqual(Math.ceil(Math.sqrt(2 * 10_000)));
  });
});
