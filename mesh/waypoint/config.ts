// The waypoint's process configuration, from environment variables (Istio's names where one exists).
// Validated at start; every message names the variable and what it accepts.
import { z } from "zod";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { LOG_LEVELS, type LogLevel } from "../shared/index.ts";
import {
  checkSources,
  duration,
  LIMIT_DOCS,
  limitFields,
  port,
  required,
  resolveLimits,
  resolveSources,
  SOURCE_DOCS,
  sourceFields,
  STARTUP_DOCS,
  startupFields,
  type ProxyLimits,
  type ProxySources,
} from "../proxy/index.ts";
import { WAYPOINT_PORTS, type WaypointListen } from "./app.ts";

export const ENV_DOCS: Array<[string, string]> = [
  ["WAYPOINT_NAME", "(required) the Gateway this waypoint implements; L7 policies target it by name"],
  ["POD_NAMESPACE", "(required) the Gateway's namespace"],
  ["SERVICE_ACCOUNT", "the waypoint's service account, its identity (default WAYPOINT_NAME)"],
  ...SOURCE_DOCS,
  ["LOCAL_CONFIG", "path of a YAML file with workloads, services, httpRoutes and l7Policies, watched: offline and test mode"],
  ["CA_DIR", "directory of a local file-backed CA in cacerts layout (offline and test mode)"],
  ["TRUST_DOMAIN", "trust domain of identities (default cluster.local)"],
  ["CLUSTER_ID", "cluster name the control plane knows this proxy by (default Kubernetes)"],
  ["SECRET_TTL", "certificate lifetime (default 24h)"],
  ["CONNECTION_TERMINATION_DEADLINE", "how long SIGTERM lets requests finish (default 5s)"],
  ...LIMIT_DOCS,
  ["LISTEN_HOST", "address the HBONE, metrics and readiness listeners bind (default 0.0.0.0)"],
  ["HBONE_PORT, METRICS_PORT, READINESS_PORT, ADMIN_PORT", "ports (default 15008, 15020, 15021, 15000 on localhost)"],
  ["ACCESS_LOG", "on: one JSON line per request on stdout; off (default, as Istio's waypoints): metrics only"],
  ...STARTUP_DOCS,
  ["LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")} (default info)`],
];

const schema = z
  .object({
    WAYPOINT_NAME: required,
    POD_NAMESPACE: required,
    SERVICE_ACCOUNT: z.string().min(1).optional(),
    ...sourceFields,
    CLUSTER_ID: z.string().min(1).default("Kubernetes"),
    SECRET_TTL: duration("24h"),
    CONNECTION_TERMINATION_DEADLINE: duration("5s"),
    ...limitFields,
    ...startupFields,
    LISTEN_HOST: z.string().default("0.0.0.0"),
    HBONE_PORT: port.default(WAYPOINT_PORTS.hbone),
    METRICS_PORT: port.default(WAYPOINT_PORTS.metrics),
    READINESS_PORT: port.default(WAYPOINT_PORTS.readiness),
    ADMIN_PORT: port.default(WAYPOINT_PORTS.admin),
    LOG_LEVEL: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).default("info"),
    ACCESS_LOG: z.enum(["on", "off"]).default("off"),
  })
  .superRefine(checkSources);

export interface WaypointConfig extends ProxySources {
  gateway: { namespace: string; name: string };
  serviceAccount: string;
  trustDomain: string;
  clusterId: string;
  certTtlSeconds: number;
  drainDeadlineMs: number;
  limits: ProxyLimits;
  listen: WaypointListen;
  logLevel: LogLevel;
  /** V8's efficiency mode until the first config (startup-efficiency.ts). */
  startupEfficiency: boolean;
  accessLog: boolean;
}

export function loadWaypointConfig(env: Record<string, string | undefined>): WaypointConfig {
  const r = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new MeshError(ErrorCode.Config, `invalid waypoint configuration:\n  ${problems.join("\n  ")}\n(run with --help for every variable)`);
  }
  const e = r.data;
  return {
    gateway: { namespace: e.POD_NAMESPACE, name: e.WAYPOINT_NAME },
    serviceAccount: e.SERVICE_ACCOUNT ?? e.WAYPOINT_NAME,
    ...resolveSources(e),
    trustDomain: e.TRUST_DOMAIN,
    clusterId: e.CLUSTER_ID,
    certTtlSeconds: Math.round(e.SECRET_TTL / 1000),
    drainDeadlineMs: e.CONNECTION_TERMINATION_DEADLINE,
    limits: resolveLimits(e),
    listen: { host: e.LISTEN_HOST, hbone: e.HBONE_PORT, metrics: e.METRICS_PORT, readiness: e.READINESS_PORT, admin: e.ADMIN_PORT },
    logLevel: e.LOG_LEVEL,
    startupEfficiency: e.STARTUP_EFFICIENCY === "on",
    accessLog: e.ACCESS_LOG === "on",
  };
}

export function helpText(): string {
  const width = Math.max(...ENV_DOCS.map(([k]) => k.length));
  return [
    "waypoint: ambient-lab's L7 proxy (HBONE in, HTTPRoute routing, L7 AuthorizationPolicy, HTTP telemetry)",
    "",
    "Usage: node mesh/waypoint/main.ts [--help]",
    "Configured by environment variables:",
    ...ENV_DOCS.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    "Signals: SIGTERM/SIGINT drain (stop accepting, let requests finish until the deadline, then close).",
    "",
  ].join("\n");
}
