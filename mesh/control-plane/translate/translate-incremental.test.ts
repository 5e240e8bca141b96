// The full translation is the oracle for the incremental one: random sequences of pod changes (labels
// that move pods between services and policies, readiness, addresses, scheduling, creation, deletion)
// on each golden input, and after every step translatePodChanges must give exactly what translate gives.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClusterSnapshot } from "../model/kube.ts";
import { DEFAULT_TRANSLATE_OPTIONS as DEFAULT, translate, translateIncremental, translatePodChanges } from "./index.ts";
import { translationToYaml } from "./serialize.ts";
import { snapshotFromYaml as snapshotFrom } from "../model/manifests.ts";
import { applyPodStep, podKey, podStep } from "./pod-steps.ts";

const dir = join(import.meta.dirname, "testdata");
const bases = readdirSync(dir)
  .filter((f) => f.endsWith(".in.yaml"))
  .sort()
  .map((f) => snapshotFrom(readFileSync(join(dir, f), "utf8")));

describe("incremental translation of pod changes", () => {
  it("equals the full translation after every step, and reports exactly the workloads it replaced", () => {
    fc.assert(
      fc.property(fc.nat(bases.length - 1), fc.array(fc.array(podStep, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 15 }), (b, batches) => {
        const base = bases[b]!;
        const pods = new Map(base.Pod.map((p) => [podKey(p), p]));
        let { memo } = translateIncremental(base, DEFAULT);
        for (const batch of batches) {
          const keys = new Set(batch.map((s) => applyPodStep(pods, s)).filter((k): k is string => k !== undefined));
          const snap: ClusterSnapshot = { ...base, Pod: [...pods.values()] };
          // Read before the call: it takes the memo over and updates its arrays in place.
          const before = new Map(memo.translation.workloads.map((w) => [w.uid, w]));
          const inc = translatePodChanges(memo, { keys, get: (k) => pods.get(k) });
          expect(translationToYaml(inc.translation)).toBe(translationToYaml(translate(snap, DEFAULT)));
          // What changed is what an encoder must redo: every workload object that is new, every uid gone.
          const after = new Map(inc.translation.workloads.map((w) => [w.uid, w]));
          const replaced = [...after].filter(([uid, w]) => before.get(uid) !== w).map(([uid]) => uid);
          const gone = [...before.keys()].filter((uid) => !after.has(uid));
          expect(inc.changes.upserted.map((w) => w.uid).sort()).toEqual(replaced.sort());
          expect([...inc.changes.removed].sort()).toEqual(gone.sort());
          memo = inc.memo;
        }
      }),
      { numRuns: 300, seed: 1130 },
    );
  });
});
