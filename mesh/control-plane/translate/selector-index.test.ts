// Services found for a pod through the selector index (services without EndpointSlices) against checking
// every service of the namespace: random multi-label selectors and pod labels from a small alphabet.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptySnapshot, type ClusterSnapshot } from "../model/kube.ts";
import { DEFAULT_TRANSLATE_OPTIONS } from "./index.ts";
import { serviceIndex } from "./workloads.ts";

const labels = fc.dictionary(fc.constantFrom("app", "tier", "version", "team"), fc.constantFrom("a", "b", "c"), { maxKeys: 3 });

describe("selector index", () => {
  it("finds exactly the services whose whole selector a pod's labels satisfy", () => {
    fc.assert(
      fc.property(fc.array(labels, { minLength: 1, maxLength: 12 }), fc.array(labels, { minLength: 1, maxLength: 12 }), (selectors, podLabels) => {
        const snap = emptySnapshot() as { -readonly [K in keyof ClusterSnapshot]: ClusterSnapshot[K][number][] };
        snap.Service = selectors.map((selector, i) => ({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: `s${i}`, namespace: "demo" },
          spec: { clusterIP: `198.19.0.${i + 1}`, selector, ports: [{ port: 80 }] },
        }));
        const { ctx } = serviceIndex(snap as ClusterSnapshot, DEFAULT_TRANSLATE_OPTIONS);
        for (const [j, l] of podLabels.entries()) {
          const pod = { metadata: { name: `p${j}`, namespace: "demo", labels: l } };
          const expected = selectors
            .map((sel, i) => [sel, `demo/s${i}.demo.svc.cluster.local`] as const)
            .filter(([sel]) => Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => l[k] === v))
            .map(([, key]) => key)
            .sort();
          expect([...ctx.servicesOfPod(pod).keys()].sort()).toEqual(expected);
          const other = { metadata: { name: `p${j}`, namespace: "elsewhere", labels: l } };
          expect([...ctx.servicesOfPod(other).keys()]).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
