// What the waypoint does with one request, whatever HTTP version carried it: who is asking (the tunnel's
// authenticated peer), L7 AuthorizationPolicy, HTTPRoute, then a healthy endpoint of the routed backend
// and the protocol its port declares. Either a local answer (403 policy, 404 no route, 500 no usable
// backend, 503 no healthy endpoint) or a target to forward to. The HTTP/1.1 and HTTP/2 front ends
// (l7-proxy.ts, h2-proxy.ts) share it, so a gRPC call and a curl request are judged alike.
import { formatAddr, type Identity } from "../shared/index.ts";
import { identityOf } from "../proxy/index.ts";
import type { Endpoint, ProxyState } from "../proxy/index.ts";
import type { StateStore } from "../proxy/index.ts";
import { serviceKey, type AppProtocol, type BackendRef, type L7Policy, type RequestMirror, type Service, type Workload } from "../proxy/index.ts";
import type { Tunnel } from "./hbone-listener.ts";
import { authorizeRequest, policiesFor } from "./l7/authz.ts";
import { redirectLocation } from "./l7/rewrite.ts";
import { orderRules, routeRequest, type RequestView, type RouteCandidate, type RuleActions } from "./l7/route.ts";
import type { HttpResponseFlag, RequestParties } from "./telemetry.ts";
import { endpointTarget, type UpstreamTarget } from "./upstream.ts";

export interface Outcome {
  code: number;
  flag: HttpResponseFlag;
  detail: string;
  route?: string;
  policy?: string;
}

export type RequestPlan =
  | { kind: "answer"; outcome: Outcome; body: string; parties: RequestParties; headers?: Record<string, string> }
  | ({
      kind: "forward";
      target: UpstreamTarget;
      parties: RequestParties;
      route?: string;
      policy?: string;
      /** What the backend's port declares it speaks; undefined: the client's protocol is used. */
      declared?: AppProtocol;
      /** The routed backend (a retry picks one of its endpoints again); undefined for a pod address. */
      backend?: BackendRef;
      /** Where copies of the request go (RequestMirror), each already chosen by its share. */
      mirrorTargets?: Array<{ target: UpstreamTarget; declared?: AppProtocol }>;
    } & RuleActions);

export interface RequestPlannerDeps {
  gateway: { namespace: string; name: string };
  state: StateStore;
  pick: (n: number) => number;
}

/** What a destination's requests share within one config version, computed on its first request. */
interface DestinationConfig {
  /** serviceKey of the destination service ("" for a pod address). */
  key: string;
  routes: RouteCandidate[];
  policies: L7Policy[];
}

/** Per config version: each destination's config (by its Service object, `null` for pod addresses) and each backend port's endpoints. */
interface VersionCache {
  destinations: Map<Service | null, DestinationConfig>;
  endpoints: Map<Service, Map<number, Endpoint[]>>;
}

export class RequestPlanner {
  private readonly deps: RequestPlannerDeps;
  /**
   * Keyed by objects, not by strings built per request: a config version's Service objects are its own,
   * so a new version starts a new cache (in a profile of bench:waypoint, building each request's endpoint
   * list and service key was a quarter of the planner's time: issue 12).
   */
  private readonly perState = new WeakMap<ProxyState, VersionCache>();

  constructor(deps: RequestPlannerDeps) {
    this.deps = deps;
  }

  private cacheOf(state: ProxyState): VersionCache {
    let c = this.perState.get(state);
    if (!c) {
      c = { destinations: new Map(), endpoints: new Map() };
      this.perState.set(state, c);
    }
    return c;
  }

  /** Computed once per config version and destination, not per request. */
  private configFor(state: ProxyState, service: Service | undefined): DestinationConfig {
    const byDst = this.cacheOf(state).destinations;
    let c = byDst.get(service ?? null);
    if (!c) {
      const key = service ? serviceKey(service) : "";
      c = {
        key,
        routes: service ? orderRules(state.routesFor(key)) : [],
        policies: policiesFor(state.l7Policies, this.deps.gateway, service ? { namespace: service.namespace, name: service.name } : undefined),
      };
      byDst.set(service ?? null, c);
    }
    return c;
  }

  /** state.endpoints, once per config version, backend and port. */
  private endpointsOf(state: ProxyState, key: string, port: number): readonly Endpoint[] {
    const backend = state.service(key);
    if (!backend) return [];
    const cache = this.cacheOf(state).endpoints;
    let byPort = cache.get(backend);
    if (!byPort) cache.set(backend, (byPort = new Map()));
    let eps = byPort.get(port);
    if (!eps) byPort.set(port, (eps = state.endpoints(backend, port)));
    return eps;
  }

  /** `req.url` (path and query) and `req.host` are what a redirect keeps. */
  plan(t: Tunnel, req: RequestView & { url: string; host: string }): RequestPlan {
    const state = this.deps.state.current;
    const service = state.serviceByVip(t.authority.ip);
    const podTarget = service ? undefined : state.workloadByIp(t.authority.ip);
    const clientWorkload = t.clientAddr ? state.workloadByIp(t.clientAddr.ip) : undefined;
    // Source labels only when the workload at the claimed address really has the authenticated identity.
    const srcWorkload = clientWorkload && hasIdentity(clientWorkload, t.peer) ? clientWorkload : undefined;
    const parties: RequestParties = { src: t.peer, srcWorkload, service, dstWorkload: undefined, dstIdentity: undefined };
    const answer = (outcome: Outcome, body: string): RequestPlan => ({ kind: "answer", outcome, body, parties });

    const config = this.configFor(state, service);
    const decision = authorizeRequest(config.policies, { srcIdentity: t.peer, method: req.method, path: req.path, port: t.authority.port });
    if (!decision.allowed) {
      const policy = decision.policy ? { policy: decision.policy } : {};
      return answer({ code: 403, flag: "-", detail: `rbac_access_denied_matched_policy[${decision.policy ?? "none"}]`, ...policy }, "RBAC: access denied");
    }
    const policy = decision.policy ? { policy: decision.policy } : {};
    if (!service) {
      if (!podTarget) {
        return answer(
          { code: 503, flag: "UH", detail: `${formatAddr(t.authority)} is neither a service nor a workload this waypoint knows` },
          "no healthy upstream",
        );
      }
      return this.forward(parties, { workload: podTarget, port: t.authority.port }, { ...policy });
    }
    const d = routeRequest(config.routes, { service: config.key, port: t.authority.port, weight: 1 }, req, this.deps.pick);
    if (d.kind === "no-route") return answer({ code: 404, flag: "NR", detail: d.message }, "route not found\n");
    if (d.kind === "no-backend") return answer({ code: 500, flag: "-", detail: d.message, route: d.route }, "no backend\n");
    if (d.kind === "redirect") {
      const location = redirectLocation(req.host, req.url, d.redirect, d.matchedPrefix);
      return {
        kind: "answer",
        outcome: { code: d.redirect.statusCode, flag: "-", detail: "redirect", route: d.route, ...policy },
        body: "",
        parties,
        headers: { location },
      };
    }
    const route = d.route ? { route: d.route } : {};
    const eps = this.endpointsOf(state, d.backend.service, d.backend.port);
    if (eps.length === 0) {
      return answer({ code: 503, flag: "UH", detail: `no healthy endpoint for ${d.backend.service}:${d.backend.port}`, ...route }, "no healthy upstream");
    }
    const declared = state.service(d.backend.service)?.appProtocols?.get(d.backend.port);
    const actions: RuleActions = {
      ...(d.requestHeaders ? { requestHeaders: d.requestHeaders } : {}),
      ...(d.responseHeaders ? { responseHeaders: d.responseHeaders } : {}),
      ...(d.rewrite ? { rewrite: d.rewrite } : {}),
      ...(d.timeouts ? { timeouts: d.timeouts } : {}),
      ...(d.retry ? { retry: d.retry } : {}),
      ...(d.matchedPrefix !== undefined ? { matchedPrefix: d.matchedPrefix } : {}),
    };
    const mirrorTargets = d.mirrors ? this.mirrorTargets(state, d.mirrors) : [];
    return this.forward(parties, endpointTarget(eps[this.deps.pick(eps.length)]!), {
      ...route,
      ...policy,
      ...actions,
      ...(declared ? { declared } : {}),
      backend: d.backend,
      ...(mirrorTargets.length ? { mirrorTargets } : {}),
    });
  }

  /** A healthy endpoint of `backend` picked again (a retry), from the config in force now; undefined if none. */
  retarget(backend: BackendRef): UpstreamTarget | undefined {
    const eps = this.endpointsOf(this.deps.state.current, backend.service, backend.port);
    return eps.length ? endpointTarget(eps[this.deps.pick(eps.length)]!) : undefined;
  }

  /** The mirrors this request goes to: each by its share, to one of its endpoints; a mirror without one is skipped. */
  private mirrorTargets(state: ProxyState, mirrors: readonly RequestMirror[]): NonNullable<Extract<RequestPlan, { kind: "forward" }>["mirrorTargets"]> {
    const out: NonNullable<Extract<RequestPlan, { kind: "forward" }>["mirrorTargets"]> = [];
    for (const m of mirrors) {
      if (m.partsPerMillion < 1_000_000 && this.deps.pick(1_000_000) >= m.partsPerMillion) continue;
      const eps = this.endpointsOf(state, m.service, m.port);
      if (eps.length === 0) continue;
      const declared = state.service(m.service)?.appProtocols?.get(m.port);
      out.push({ target: endpointTarget(eps[this.deps.pick(eps.length)]!), ...(declared ? { declared } : {}) });
    }
    return out;
  }

  private forward(
    parties: RequestParties,
    target: UpstreamTarget,
    extra: Omit<Extract<RequestPlan, { kind: "forward" }>, "kind" | "target" | "parties">,
  ): RequestPlan {
    parties.dstWorkload = target.workload;
    parties.dstIdentity = target.workload.protocol === "HBONE" ? identityOf(target.workload) : undefined;
    return { kind: "forward", target, parties, ...extra };
  }
}

/** Whether the workload runs as `id` (compared field by field: no SPIFFE strings built per request). */
function hasIdentity(w: Workload, id: Identity): boolean {
  return w.trustDomain === id.trustDomain && w.namespace === id.namespace && w.serviceAccount === id.serviceAccount;
}
