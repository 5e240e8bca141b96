// What the store keeps of an object from the API server: what the control plane reads of it. Status is
// written often by others and by us (kubelets' pod and node heartbeats, our own AuthorizationPolicy and
// Gateway conditions), and each write is a watch event; kept whole, every one was a store change and a
// full translation (issue 13: the 500 policy-status PATCHes at start came back as 500 retranslations).
// managedFields and resourceVersion change with every write and are read by nobody here (the informer
// keeps its own resourceVersion). Pure, so a status-only event leaves an equal object and the store's
// equality check drops it.
import type { V1Pod, V1PodStatus } from "@kubernetes/client-node";
import type { AnyObject, Kind } from "../model/kube.ts";

/** A pod's status as translation reads it: phase, IPs, and whether it is Ready. */
function podStatus(s: V1PodStatus | undefined): V1PodStatus | undefined {
  if (!s) return undefined;
  const ready = s.conditions?.find((c) => c.type === "Ready");
  const out: V1PodStatus = {};
  if (s.phase !== undefined) out.phase = s.phase;
  if (s.podIP !== undefined) out.podIP = s.podIP;
  if (s.podIPs !== undefined) out.podIPs = s.podIPs.map((p) => ({ ip: p.ip }));
  if (ready) out.conditions = [{ type: "Ready", status: ready.status }];
  return out;
}

export function project(kind: Kind, o: AnyObject): AnyObject {
  const { status, ...rest } = o as AnyObject & { status?: unknown };
  const metadata = { ...rest.metadata };
  delete metadata.managedFields;
  delete metadata.resourceVersion;
  const out = { ...rest, metadata } as AnyObject;
  if (kind === "Pod") {
    const s = podStatus(status as V1PodStatus | undefined);
    if (s) (out as V1Pod).status = s;
  }
  return out;
}
