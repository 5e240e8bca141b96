// The waypoint's process configuration, from environment variables (Istio's names where one exists).
// Validated at start; every message names the variable and what it accepts.
import { z } from "zod";
import { ErrorCode, MeshError } from "../shared/errors.ts";
import { LOG_LEVELS, type LogLevel } from "../shared/logging.ts";
import { duration, port, required } from "../ztunnel/config.ts";
import { WAYPOINT_PORTS, type WaypointListen } from "./app.ts";

export const ENV_DOCS: Array<[string, string]> = [
  ["WAYPOINT_NAME", "(required) the Gateway this waypoint implements; L7 policies target it by name"],
  ["POD_NAMESPACE", "(required) the Gateway's namespace"],
  ["SERVICE_ACCOUNT", "the waypoint's service account, its identity (default WAYPOINT_NAME)"],
  ["XDS_ADDRESS", "control plane for config, e.g. https://198.18.0.2:15012 (else LOCAL_CONFIG is required)"],
  ["CA_ADDRESS", "control plane for certificates (default XDS_ADDRESS; else CA_DIR is required)"],
  ["ROOT_CERT", "trust bundle the control plane's certificate chains to (required with XDS_ADDRESS/CA_ADDRESS)"],
  ["TOKEN_FILE", "bearer token for the control plane (required with XDS_ADDRESS/CA_ADDRESS)"],
  ["CONTROL_PLANE_IDENTITY", "SPIFFE identity the control plane must present (default spiffe://<trust domain>/ns/istio-system/sa/istiod)"],
  ["LOCAL_CONFIG", "path of a YAML file with workloads, services, httpRoutes and l7Policies, watched: offline and test mode"],
  ["CA_DIR", "directory of a local file-backed CA in cacerts layout (offline and test mode)"],
  ["TRUST_DOMAIN", "trust domain of identities (default cluster.local)"],
  ["CLUSTER_ID", "cluster name the control plane knows this proxy by (default Kubernetes)"],
  ["SECRET_TTL", "certificate lifetime (default 24h)"],
  ["CONNECTION_TERMINATION_DEADLINE", "how long SIGTERM lets requests finish (default 5s)"],
  ["LISTEN_HOST", "address the HBONE, metrics and readiness listeners bind (default 0.0.0.0)"],
  ["HBONE_PORT, METRICS_PORT, READINESS_PORT, ADMIN_PORT", "ports (default 15008, 15020, 15021, 15000 on localhost)"],
  ["ACCESS_LOG", "on: one JSON line per request on stdout; off (default, as Istio's waypoints): metrics only"],
  ["LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")} (default info)`],
];

const schema = z
  .object({
    WAYPOINT_NAME: required,
    POD_NAMESPACE: required,
    SERVICE_ACCOUNT: z.string().min(1).optional(),
    XDS_ADDRESS: z.string().url().optional(),
    CA_ADDRESS: z.string().url().optional(),
    ROOT_CERT: z.string().optional(),
    TOKEN_FILE: z.string().optional(),
    CONTROL_PLANE_IDENTITY: z.string().optional(),
    LOCAL_CONFIG: z.string().optional(),
    CA_DIR: z.string().optional(),
    TRUST_DOMAIN: z.string().min(1).default("cluster.local"),
    CLUSTER_ID: z.string().min(1).default("Kubernetes"),
    SECRET_TTL: duration("24h"),
    CONNECTION_TERMINATION_DEADLINE: duration("5s"),
    LISTEN_HOST: z.string().default("0.0.0.0"),
    HBONE_PORT: port.default(WAYPOINT_PORTS.hbone),
    METRICS_PORT: port.default(WAYPOINT_PORTS.metrics),
    READINESS_PORT: port.default(WAYPOINT_PORTS.readiness),
    ADMIN_PORT: port.default(WAYPOINT_PORTS.admin),
    LOG_LEVEL: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).default("info"),
    ACCESS_LOG: z.enum(["on", "off"]).default("off"),
  })
  .superRefine((e, ctx) => {
    const cp = e.XDS_ADDRESS ?? e.CA_ADDRESS;
    if (!e.XDS_ADDRESS && !e.LOCAL_CONFIG) ctx.addIssue({ code: "custom", path: ["XDS_ADDRESS"], message: "set XDS_ADDRESS (control plane) or LOCAL_CONFIG (a static file)" });
    if (!e.CA_ADDRESS && !e.XDS_ADDRESS && !e.CA_DIR) ctx.addIssue({ code: "custom", path: ["CA_ADDRESS"], message: "set CA_ADDRESS or XDS_ADDRESS (control plane CA) or CA_DIR (a local CA)" });
    if (cp && !e.ROOT_CERT) ctx.addIssue({ code: "custom", path: ["ROOT_CERT"], message: "is required to verify the control plane" });
    if (cp && !e.TOKEN_FILE) ctx.addIssue({ code: "custom", path: ["TOKEN_FILE"], message: "is required to authenticate to the control plane" });
  });

export interface WaypointConfig {
  gateway: { namespace: string; name: string };
  serviceAccount: string;
  config: { kind: "xds"; address: string } | { kind: "file"; path: string };
  ca: { kind: "grpc"; address: string } | { kind: "dir"; path: string };
  controlPlane?: { rootCert: string; tokenFile: string; identity: string };
  trustDomain: string;
  clusterId: string;
  certTtlSeconds: number;
  drainDeadlineMs: number;
  listen: WaypointListen;
  logLevel: LogLevel;
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
    config: e.XDS_ADDRESS ? { kind: "xds", address: e.XDS_ADDRESS } : { kind: "file", path: e.LOCAL_CONFIG! },
    ca: e.CA_ADDRESS || e.XDS_ADDRESS ? { kind: "grpc", address: (e.CA_ADDRESS ?? e.XDS_ADDRESS)! } : { kind: "dir", path: e.CA_DIR! },
    ...(e.ROOT_CERT && e.TOKEN_FILE
      ? { controlPlane: { rootCert: e.ROOT_CERT, tokenFile: e.TOKEN_FILE, identity: e.CONTROL_PLANE_IDENTITY ?? `spiffe://${e.TRUST_DOMAIN}/ns/istio-system/sa/istiod` } }
      : {}),
    trustDomain: e.TRUST_DOMAIN,
    clusterId: e.CLUSTER_ID,
    certTtlSeconds: Math.round(e.SECRET_TTL / 1000),
    drainDeadlineMs: e.CONNECTION_TERMINATION_DEADLINE,
    listen: { host: e.LISTEN_HOST, hbone: e.HBONE_PORT, metrics: e.METRICS_PORT, readiness: e.READINESS_PORT, admin: e.ADMIN_PORT },
    logLevel: e.LOG_LEVEL,
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
