// Random pod changes for property tests of incremental translation (a test helper): labels that move
// pods between services and policies, readiness, addresses, scheduling, creation and deletion.
import fc from "fast-check";
import type { V1Pod } from "../model/kube.ts";

export const podKey = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

export type PodStep =
  | { op: "labels"; pod: number; app?: string; version?: string; mode?: string }
  | { op: "ready"; pod: number; ready: boolean }
  | { op: "ip"; pod: number; ip: string }
  | { op: "unschedule"; pod: number }
  | { op: "delete"; pod: number }
  | { op: "create"; pod: number; name: string };

export const podStep: fc.Arbitrary<PodStep> = fc.oneof(
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
export function applyPodStep(pods: Map<string, V1Pod>, s: PodStep): string | undefined {
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
      pods.delete(podKey(base));
      return podKey(base);
    case "create":
      next.metadata.name = s.name;
      break;
  }
  pods.set(podKey(next), next);
  return podKey(next);
}
