// The outbound decision, pure: given the state, the source workload and the original destination,
// where does the connection go and how. Mirrors ztunnel's build_request for the cases we support.
import { formatAddr, type SockAddr } from "../../shared/addr.ts";
import type { Identity } from "../../shared/identity.ts";
import type { ProxyState } from "../state/snapshot.ts";
import type { Service, Workload } from "../state/types.ts";
import { identityOf } from "./context.ts";

export type OutboundPlan =
  | { kind: "refuse"; reason: "self-call" | "no-healthy-upstream" | "unknown-source"; message: string; service?: Service }
  | { kind: "passthrough"; target: SockAddr }
  | { kind: "direct"; target: SockAddr; workload: Workload; service?: Service }
  | { kind: "hbone"; target: SockAddr; authority: SockAddr; workload: Workload; identity: Identity; service?: Service };

export interface PlanInput {
  state: ProxyState;
  source: Workload | undefined;
  dst: SockAddr;
  illegalPorts: ReadonlySet<number>;
  hboneTarget: (podIp: string) => SockAddr;
  /** Picks an index in [0, n): injected so endpoint choice is testable. */
  pick: (n: number) => number;
}

function toWorkload(w: Workload, port: number, input: PlanInput, service?: Service): OutboundPlan {
  const ip = w.ips[0]!;
  if (w.protocol === "HBONE") {
    return { kind: "hbone", target: input.hboneTarget(ip), authority: { ip, port }, workload: w, identity: identityOf(w), ...(service ? { service } : {}) };
  }
  return { kind: "direct", target: { ip, port }, workload: w, ...(service ? { service } : {}) };
}

export function planOutbound(input: PlanInput): OutboundPlan {
  const { state, dst } = input;
  if (input.illegalPorts.has(dst.port)) {
    return { kind: "refuse", reason: "self-call", message: `destination port ${dst.port} is a ztunnel port; refusing to loop (${formatAddr(dst)})` };
  }
  if (!input.source) {
    // Capture only sends enrolled pods' traffic here; an unknown source means config has not caught up.
    return { kind: "refuse", reason: "unknown-source", message: `no workload is known for the source address; cannot pick an identity for ${formatAddr(dst)}` };
  }
  const service = state.serviceByVip(dst.ip);
  if (service) {
    const eps = state.endpoints(service, dst.port);
    if (eps.length === 0) {
      return { kind: "refuse", reason: "no-healthy-upstream", message: `service ${service.hostname} has no healthy endpoint for port ${dst.port}`, service };
    }
    const ep = eps[input.pick(eps.length)]!;
    return toWorkload(ep.workload, ep.targetPort, input, service);
  }
  const workload = state.workloadByIp(dst.ip);
  if (workload) return toWorkload(workload, dst.port, input);
  return { kind: "passthrough", target: dst };
}
