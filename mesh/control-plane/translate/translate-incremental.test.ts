// The full translation is the oracle for the incremental one: random sequences of pod changes (labels
// that move pods between services and policies, readiness, addresses, scheduling, creation, deletion)
// on each golden input, and after every step translatePodChanges must give exactly what translate gives.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClusterSnapshot, V1Pod } from "../model/kube.ts";
import { DEFAULT_TRANSLATE_OPTIONS as DEFAULT, translate, translateIncremental, translatePodChanges } from "./index.ts";
import { translationToYaml } from "./serialize.ts";
import { snapshotFromYaml as snapshotFrom } from "../model/manifests.ts";

const dir = join(import.meta.dirname, "testdata");
const bases = readdirSync(dir)
  .filter((f) => f.endsWith(".in.yaml"))
  .sort()
  .map((f) => snapshotFrom(readFileSync(join(dir, f), "utf8")));

const keyOf = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

type Step =
  | { op: "labels"; pod: number; app?: string; version?: string; mode?: string }
  | { op: "ready"; pod: number; ready: boolean }
  | { op: "ip"; pod: number; ip: string }
  | { op: "unschedule"; pod: number }
  | { op: "delete"; pod: number }
  | { op: "create"; pod: number; name: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant("labels" as const),
    pod: fc.nat(20),
    app: fc.option(fc.constantFrom("web", "sleep", "db"), { nil: undefined }),
    version: fc.option(fc.constantFrom("v1", "v2"), { nil: undefined }),
    mode: fc.option(fc.constantFrom("ambient", "none"), { nil: undefined }),
  }),
  fc.record({ op: fc.constant("ready" as const), pod: fc.nat(20), ready: fc.boolean() }),
  fc.record({ op: fc.constant("ip" as const), pod: fc.nat(20), ip: fc.constantFrom("10.9.0.1", "10.9.0.2", "fd00::9") }),
  fc.record({ op: fc.constant("unschedule" as const), pod: fc.nat(20) }),
  fc.record({ op: fc.constant("delete" as const), pod: fc.nat(20) }),
  fc.record({ op: fc.constant("create" as const), pod: fc.nat(20), name: fc.constantFrom("np-0", "np-1", "np-2") }),
);

/** Applies one step to the pods (key -> pod, never mutating a pod object); returns the key it touched. */
function apply(pods: Map<string, V1Pod>, s: Step): string | undefined {
  const list = [...pods.values()];
  if (list.length === 0) return undefined;
  const base = list[s.pod % list.length]!;
  const next = structuredClone(base);
  next.metadata ??= {};
  switch (s.op) {
    case "labels": {
      const labels = { ...next.metadata.labels };
      for (const [k, v] of [
        ["app", s.app],
        ["version", s.version],
        ["istio.io/dataplane-mode", s.mode],
      ] as const) {
        if (v === undefined) delete labels[k];
        else labels[k] = v;
      }
      next.metadata.labels = labels;
      break;
    }
    case "ready":
      next.status = { ...next.status, conditions: [{ type: "Ready", status: s.ready ? "True" : "False" }] };
      break;
    case "ip":
      next.status = { ...next.status, podIP: s.ip, podIPs: [{ ip: s.ip }] };
      break;
    case "unschedule":
      if (next.spec) delete next.spec.nodeName;
      break;
    case "delete":
      pods.delete(keyOf(base));
      return keyOf(base);
    case "create":
      next.metadata.name = s.name;
      break;
  }
  pods.set(keyOf(next), next);
  return keyOf(next);
}

describe("incremental translation of pod changes", () => {
  it("equals the full translation after every step, and reports exactly the workloads it replaced", () => {
    fc.assert(
      fc.property(fc.nat(bases.length - 1), fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 15 }), (b, batches) => {
        const base = bases[b]!;
        const pods = new Map(base.Pod.map((p) => [keyOf(p), p]));
        let { memo } = translateIncremental(base, DEFAULT);
        for (const batch of batches) {
          const keys = new Set(batch.map((s) => apply(pods, s)).filter((k): k is string => k !== undefined));
          const snap: ClusterSnapshot = { ...base, Pod: [...pods.values()] };
          const inc = translatePodChanges(memo, { keys, get: (k) => pods.get(k) });
          expect(translationToYaml(inc.translation)).toBe(translationToYaml(translate(snap, DEFAULT)));
          // What changed is what an encoder must redo: every workload object that is new, every uid gone.
          const before = new Map(memo.translation.workloads.map((w) => [w.uid, w]));
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
