// The proxy's resource shapes are the wire contract's (mesh/api): re-exported for the state module.
export * from "../../api/index.ts";
import type { Authorization, HttpRoute, L7Policy, Service, Workload } from "../../api/index.ts";

/** Everything a proxy acts on, as the control plane streams it or a local file holds it. */
export interface ProxyResources {
  workloads: Workload[];
  services: Service[];
  policies: Authorization[];
  /** L7 resources, for waypoints; ztunnel ignores them. */
  routes?: HttpRoute[];
  l7Policies?: L7Policy[];
}
