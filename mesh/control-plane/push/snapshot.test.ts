// The snapshot builder's pod fast path against a from-scratch build: after random pod changes written to
// the store, every resource's version and every delta must be what translating and encoding the whole
// cluster again gives, and the fast path must not read the whole cluster.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/index.ts";
import { snapshotFromYaml } from "../model/manifests.ts";
import { ObjectStore } from "../store/object-store.ts";
import { DEFAULT_TRANSLATE_OPTIONS, translate } from "../translate/index.ts";
import { applyPodStep, podKey, podStep } from "../translate/pod-steps.ts";
import { buildResources, SnapshotBuilder, type VersionedResource } from "./snapshot.ts";

const base = snapshotFromYaml(readFileSync(join(import.meta.dirname, "../translate/testdata/enrollment.in.yaml"), "utf8"));
const versions = (types: Map<string, Map<string, VersionedResource>>) =>
  Object.fromEntries([...types].map(([t, m]) => [t, Object.fromEntries([...m].map(([n, r]) => [n, r.version]))]));

describe("snapshot builder, pod changes", () => {
  it("matches a from-scratch build after each change, with exact deltas, without reading the whole cluster", () => {
    fc.assert(
      fc.property(fc.array(fc.array(podStep, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 }), (batches) => {
        const store = new ObjectStore();
        store.replace(base as unknown as Parameters<ObjectStore["replace"]>[0]);
        const builder = new SnapshotBuilder({ store, translate: DEFAULT_TRANSLATE_OPTIONS, debounceMs: 0, log: silentLogger() });
        builder.start();
        builder.rebuild();
        let reads = 0;
        const snapshot = store.snapshot.bind(store);
        store.snapshot = () => (reads++, snapshot());
        const pods = new Map(base.Pod.map((p) => [podKey(p), p]));
        for (const batch of batches) {
          const before = builder.current!;
          // Versions as they were: the pod path updates the superseded snapshot's address map in place.
          const beforeVersions = versions(before.types);
          for (const s of batch) {
            const key = applyPodStep(pods, s);
            if (!key) continue;
            const pod = pods.get(key);
            if (pod) store.upsert("Pod", pod);
            else store.remove("Pod", key);
          }
          const after = builder.rebuild()!;
          const full = buildResources(translate(snapshot(), DEFAULT_TRANSLATE_OPTIONS));
          expect(versions(after.types)).toEqual(versions(full));
          if (after !== before && after.version !== before.version) {
            // The delta is exactly the difference between the two versions.
            const d = after.delta!;
            expect(d.from).toBe(before.version);
            for (const [type, m] of after.types) {
              const old = beforeVersions[type]!;
              const changed = [...m.values()].filter((r) => old[r.name] !== r.version).map((r) => r.name);
              const removed = Object.keys(old).filter((n) => !m.has(n));
              expect(
                d.types
                  .get(type)!
                  .changed.map((r) => r.name)
                  .sort(),
              ).toEqual(changed.sort());
              expect([...d.types.get(type)!.removed].sort()).toEqual(removed.sort());
            }
          }
        }
        builder.stop();
        expect(reads).toBe(0);
      }),
      { numRuns: 100, seed: 1130 },
    );
  });
});
