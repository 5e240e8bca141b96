// ztunnel's process configuration, from environment variables named as in Istio's ztunnel where one
// exists. Validated at start; every message names the variable and what it accepts.
import { z } from "zod";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { LOG_LEVELS, type LogLevel } from "../shared/index.ts";
import { DEFAULT_PORTS, type ListenConfig } from "./app.ts";
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

export { duration, parseDuration, port, required } from "../proxy/index.ts";

export const ENV_DOCS: Array<[string, string]> = [
  ["NODE_NAME", "(required) the node this ztunnel serves; workloads with this node are local"],
  ...SOURCE_DOCS,
  ["LOCAL_CONFIG", "path of a YAML file with workloads, services and policies, watched: offline and test mode"],
  ["CA_DIR", "directory of a local file-backed CA in cacerts layout (offline and test mode)"],
  ["TRUST_DOMAIN", "trust domain of identities (default cluster.local)"],
  ["CLUSTER_ID", "cluster name in telemetry (default Kubernetes)"],
  ["ROOT_NAMESPACE", "namespace whose policies are global (default istio-system)"],
  ["SECRET_TTL", "workload certificate lifetime (default 24h)"],
  ["CONNECTION_TERMINATION_DEADLINE", "how long SIGTERM lets connections finish (default 5s)"],
  ["POOL_MAX_STREAMS_PER_CONNECTION", "HBONE streams per pooled connection (default 100)"],
  ["POOL_UNUSED_RELEASE_TIMEOUT", "idle time before a pooled HBONE connection closes (default 5m)"],
  ...LIMIT_DOCS,
  ["LISTEN_HOST", "address the data-path listeners bind (default 0.0.0.0)"],
  ["OUTBOUND_PORT, INBOUND_PLAINTEXT_PORT, HBONE_PORT", "data-path ports (default 15001, 15006, 15008)"],
  ["METRICS_PORT, READINESS_PORT, ADMIN_PORT", "telemetry and admin ports (default 15020, 15021, 15000)"],
  ["REDIRECT", "nft: node-level capture rules in this network namespace; sidecar: one pod's rules (with SIDECAR_POD_IP); none (default)"],
  ["SIDECAR_POD_IP", "sidecar mode: the IP of the pod this proxy runs beside; it serves only that pod"],
  ["PROXY_UID", "sidecar mode: the user this proxy runs as, whose connections are not captured (default 1337)"],
  ...STARTUP_DOCS,
  ["LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")} (default info)`],
];

const schema = z
  .object({
    NODE_NAME: required,
    ...sourceFields,
    CLUSTER_ID: z.string().min(1).default("Kubernetes"),
    ROOT_NAMESPACE: z.string().min(1).default("istio-system"),
    SECRET_TTL: duration("24h"),
    CONNECTION_TERMINATION_DEADLINE: duration("5s"),
    POOL_MAX_STREAMS_PER_CONNECTION: z.coerce.number().int().min(1).max(10_000).default(100),
    POOL_UNUSED_RELEASE_TIMEOUT: duration("5m"),
    ...limitFields,
    ...startupFields,
    LISTEN_HOST: z.string().default("0.0.0.0"),
    OUTBOUND_PORT: port.default(DEFAULT_PORTS.outbound),
    INBOUND_PLAINTEXT_PORT: port.default(DEFAULT_PORTS.inboundPlaintext),
    HBONE_PORT: port.default(DEFAULT_PORTS.hbone),
    METRICS_PORT: port.default(DEFAULT_PORTS.metrics),
    READINESS_PORT: port.default(DEFAULT_PORTS.readiness),
    ADMIN_PORT: port.default(DEFAULT_PORTS.admin),
    REDIRECT: z.enum(["nft", "sidecar", "none"]).default("none"),
    SIDECAR_POD_IP: z.ipv4().optional(),
    PROXY_UID: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .default(1337),
    LOG_LEVEL: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).default("info"),
  })
  .superRefine((e, ctx) => {
    checkSources(e, ctx);
    if (e.REDIRECT === "sidecar" && !e.SIDECAR_POD_IP) ctx.addIssue({ code: "custom", path: ["SIDECAR_POD_IP"], message: "is required with REDIRECT=sidecar" });
  });

export interface ZtunnelConfig extends ProxySources {
  node: string;
  trustDomain: string;
  clusterId: string;
  rootNamespace: string;
  certTtlSeconds: number;
  drainDeadlineMs: number;
  poolMaxStreams: number;
  poolIdleMs: number;
  limits: ProxyLimits;
  listen: ListenConfig;
  redirect: "nft" | "sidecar" | "none";
  /** Sidecar mode: the pod this proxy serves, and the user whose connections are not captured. */
  sidecar?: { podIp: string; proxyUid: number };
  logLevel: LogLevel;
  /** V8's efficiency mode until the first config (startup-efficiency.ts). */
  startupEfficiency: boolean;
}

export function loadConfig(env: Record<string, string | undefined>): ZtunnelConfig {
  const r = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new MeshError(ErrorCode.Config, `invalid ztunnel configuration:\n  ${problems.join("\n  ")}\n(run with --help for every variable)`);
  }
  const e = r.data;
  return {
    node: e.NODE_NAME,
    ...resolveSources(e),
    trustDomain: e.TRUST_DOMAIN,
    clusterId: e.CLUSTER_ID,
    rootNamespace: e.ROOT_NAMESPACE,
    certTtlSeconds: Math.round(e.SECRET_TTL / 1000),
    drainDeadlineMs: e.CONNECTION_TERMINATION_DEADLINE,
    poolMaxStreams: e.POOL_MAX_STREAMS_PER_CONNECTION,
    poolIdleMs: e.POOL_UNUSED_RELEASE_TIMEOUT,
    limits: resolveLimits(e),
    listen: {
      host: e.LISTEN_HOST,
      outbound: e.OUTBOUND_PORT,
      inboundPlaintext: e.INBOUND_PLAINTEXT_PORT,
      hbone: e.HBONE_PORT,
      metrics: e.METRICS_PORT,
      readiness: e.READINESS_PORT,
      admin: e.ADMIN_PORT,
    },
    redirect: e.REDIRECT,
    ...(e.SIDECAR_POD_IP ? { sidecar: { podIp: e.SIDECAR_POD_IP, proxyUid: e.PROXY_UID } } : {}),
    logLevel: e.LOG_LEVEL,
    startupEfficiency: e.STARTUP_EFFICIENCY === "on",
  };
}

export function helpText(): string {
  const width = Math.max(...ENV_DOCS.map(([k]) => k.length));
  return [
    "ztunnel: ambient-lab's per-node L4 proxy (mTLS over HBONE, L4 policy, telemetry)",
    "",
    "Usage: node mesh/ztunnel/main.ts [--help | --uninstall]",
    "  --uninstall  remove the capture rules in this network namespace (they outlive every ztunnel) and exit",
    "Configured by environment variables:",
    ...ENV_DOCS.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    "Signals: SIGTERM/SIGINT drain (stop accepting, wait up to the deadline, then close). Capture rules",
    "stay when ztunnel exits, so enrolled pods' traffic is refused, never sent in plaintext, until a",
    "ztunnel runs again (it takes the rules over) or --uninstall removes them.",
    "",
  ].join("\n");
}
