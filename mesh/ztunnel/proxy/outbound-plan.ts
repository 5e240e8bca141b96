// The outbound decision, pure: given the state, the source workload and the original destination,
// where does the connection go and how. Mirrors ztunnel's build_request for the cases we support.
import { formatAddr, type SockAddr } from "../../shared/index.ts";
import type { Identity } from "../../shared/index.ts";
import type { ProxyState } from "../../proxy/index.ts";
import type { Service, WaypointRef, Workload } from "../../proxy/index.ts";
import { identityOf } from "../../proxy/index.ts";

export type OutboundPlan =
  | { kind: "refuse"; reason: "self-call" | "no-healthy-upstream" | "unknown-source"; message: string; service?: Service }
  | { kind: "passthrough"; target: SockAddr }
  | { kind: "direct"; target: SockAddr; workload: Workload; service?: Service }
  | { kind: "hbone"; target: SockAddr; authority: SockAddr; workload: Workload; identity: Identity; service?: Service; viaWaypoint?: boolean };

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

/**
 * L7 traffic to a service or workload bound to a waypoint goes to a waypoint pod instead, over HBONE
 * to the waypoint's own listener, with the original destination as :authority (as Istio's ztunnel does).
 * A waypoint's own traffic never loops back to itself.
 */
function toWaypoint(wp: WaypointRef, input: PlanInput, dst: SockAddr, service?: Service): OutboundPlan | undefined {
  const wpKey = `${wp.namespace}/${wp.hostname}`;
  if (input.source?.services.has(wpKey)) return undefined;
  const wpService = input.state.service(wpKey);
  const eps = wpService ? input.state.endpoints(wpService, wp.hbonePort) : [];
  if (eps.length === 0) {
    const what = service ? `service ${service.hostname}` : formatAddr(dst);
    return {
      kind: "refuse",
      reason: "no-healthy-upstream",
      message: `${what} uses waypoint ${wpKey}, which has no healthy endpoint on port ${wp.hbonePort}`,
      ...(service ? { service } : {}),
    };
  }
  const ep = eps[input.pick(eps.length)]!;
  return {
    kind: "hbone",
    target: { ip: ep.workload.ips[0]!, port: ep.targetPort },
    authority: dst,
    workload: ep.workload,
    identity: identityOf(ep.workload),
    viaWaypoint: true,
    ...(service ? { service } : {}),
  };
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
  if (service?.waypoint) {
    const viaWaypoint = toWaypoint(service.waypoint, input, dst, service);
    if (viaWaypoint) return viaWaypoint;
  }
  if (service) {
    const eps = state.endpoints(service, dst.port);
    if (eps.length === 0) {
      return { kind: "refuse", reason: "no-healthy-upstream", message: `service ${service.hostname} has no healthy endpoint for port ${dst.port}`, service };
    }
    const ep = eps[input.pick(eps.length)]!;
    return toWorkload(ep.workload, ep.targetPort, input, service);
  }
  const workload = state.workloadByIp(dst.ip);
  if (workload?.waypoint) {
    const viaWaypoint = toWaypoint(workload.waypoint, input, dst);
    if (viaWaypoint) return viaWaypoint;
  }
  if (workload) return toWorkload(workload, dst.port, input);
  return { kind: "passthrough", target: dst };
}
