// Kubernetes mode: tells users what the mesh made of each AuthorizationPolicy through a status condition,
// as Istio does: ZtunnelAccepted for selector/namespace policies, WaypointAccepted for policies bound with
// targetRefs. Written only when it changes. File mode logs the same notes instead.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { describeError } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import type { ResourceNote, Translation } from "./translate/index.ts";

export interface PolicyCondition {
  type: "ZtunnelAccepted" | "WaypointAccepted";
  status: "True" | "False";
  reason: "Accepted" | "PartiallyAccepted" | "Invalid" | "NotApplicable";
  message: string;
}

/** Pure: the condition each AuthorizationPolicy should carry, by "namespace/name"; `waypointKeys` are bound with targetRefs. */
export function policyConditions(policyKeys: string[], notes: ResourceNote[], waypointKeys: ReadonlySet<string> = new Set()): Map<string, PolicyCondition> {
  const out = new Map<string, PolicyCondition>();
  const typeOf = (key: string) => (waypointKeys.has(key) ? "WaypointAccepted" : "ZtunnelAccepted");
  for (const key of policyKeys)
    out.set(key, {
      type: typeOf(key),
      status: "True",
      reason: "Accepted",
      message: waypointKeys.has(key) ? "enforced by the waypoint" : "enforced by ztunnel",
    });
  for (const n of notes.filter((x) => x.kind === "AuthorizationPolicy")) {
    const key = `${n.namespace}/${n.name}`;
    if (n.status === "Rejected") out.set(key, { type: typeOf(key), status: "False", reason: "Invalid", message: n.reason });
    else if (n.status === "Ignored") out.set(key, { type: typeOf(key), status: "False", reason: "NotApplicable", message: n.reason });
    else out.set(key, { type: typeOf(key), status: "True", reason: "PartiallyAccepted", message: n.reason });
  }
  return out;
}

export class PolicyStatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly log: Logger;
  private readonly written = new Map<string, string>();

  constructor(kubeConfig: KubeConfig, log: Logger) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.log = log;
  }

  async update(t: Translation, allPolicyKeys: string[], waypointKeys: ReadonlySet<string> = new Set()): Promise<void> {
    for (const [key, cond] of policyConditions(allPolicyKeys, t.notes, waypointKeys)) {
      const text = JSON.stringify(cond);
      if (this.written.get(key) === text) continue;
      const [namespace, name] = key.split("/") as [string, string];
      try {
        await this.api.patchNamespacedCustomObjectStatus(
          {
            group: "security.istio.io",
            version: "v1",
            namespace,
            plural: "authorizationpolicies",
            name,
            body: { status: { conditions: [{ ...cond, lastTransitionTime: new Date().toISOString() }] } },
          },
          // A JSON merge patch replaces the conditions list as a whole.
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        this.written.set(key, text);
      } catch (err) {
        this.log.warn(
          { policy: key, err: describeError(err) },
          "writing the policy status failed (does the CRD have a status subresource, and the control plane patch on authorizationpolicies/status?)",
        );
      }
    }
    for (const key of [...this.written.keys()]) if (!allPolicyKeys.includes(key)) this.written.delete(key);
  }
}
