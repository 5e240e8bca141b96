// ztunnel's process configuration, from environment variables named as in Istio's ztunnel where one
// exists. Validated at start; every message names the variable and what it accepts.
import { z } from "zod";
import { ErrorCode, MeshError } from "../shared/errors.ts";
import { LOG_LEVELS, type LogLevel } from "../shared/logging.ts";
import { DEFAULT_PORTS, type ListenConfig } from "./app.ts";

/** "90", "90s", "5m", "24h", "500ms" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration like 500ms, 5s, 5m or 24h`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"]);
}

export const duration = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      try {
        return parseDuration(s);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    });
export const required = z.string({ error: (iss) => (iss.input === undefined ? "is required" : "must be a string") }).min(1);
export const port = z.coerce.number().int().min(0).max(65535);

export const ENV_DOCS: Array<[string, string]> = [
  ["NODE_NAME", "(required) the node this ztunnel serves; workloads with this node are local"],
  ["XDS_ADDRESS", "control plane for config, e.g. https://198.18.0.2:15012 (else LOCAL_CONFIG is required)"],
  ["CA_ADDRESS", "control plane for certificates (default XDS_ADDRESS; else CA_DIR is required)"],
  ["ROOT_CERT", "trust bundle the control plane's certificate chains to (required with XDS_ADDRESS/CA_ADDRESS)"],
  ["TOKEN_FILE", "bearer token for the control plane (required with XDS_ADDRESS/CA_ADDRESS)"],
  ["CONTROL_PLANE_IDENTITY", "SPIFFE identity the control plane must present (default spiffe://<trust domain>/ns/istio-system/sa/istiod)"],
  ["LOCAL_CONFIG", "path of a YAML file with workloads, services and policies, watched: offline and test mode"],
  ["CA_DIR", "directory of a local file-backed CA in cacerts layout (offline and test mode)"],
  ["TRUST_DOMAIN", "trust domain of identities (default cluster.local)"],
  ["CLUSTER_ID", "cluster name in telemetry (default Kubernetes)"],
  ["ROOT_NAMESPACE", "namespace whose policies are global (default istio-system)"],
  ["SECRET_TTL", "workload certificate lifetime (default 24h)"],
  ["CONNECTION_TERMINATION_DEADLINE", "how long SIGTERM lets connections finish (default 5s)"],
  ["POOL_MAX_STREAMS_PER_CONNECTION", "HBONE streams per pooled connection (default 100)"],
  ["POOL_UNUSED_RELEASE_TIMEOUT", "idle time before a pooled HBONE connection closes (default 5m)"],
  ["LISTEN_HOST", "address the data-path listeners bind (default 0.0.0.0)"],
  ["OUTBOUND_PORT, INBOUND_PLAINTEXT_PORT, HBONE_PORT", "data-path ports (default 15001, 15006, 15008)"],
  ["METRICS_PORT, READINESS_PORT, ADMIN_PORT", "telemetry and admin ports (default 15020, 15021, 15000)"],
  ["REDIRECT", "nft: node-level capture rules in this network namespace; sidecar: one pod's rules (with SIDECAR_POD_IP); none (default)"],
  ["SIDECAR_POD_IP", "sidecar mode: the IP of the pod this proxy runs beside; it serves only that pod"],
  ["PROXY_UID", "sidecar mode: the user this proxy runs as, whose connections are not captured (default 1337)"],
  ["LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")} (default info)`],
];

const schema = z.object({
  NODE_NAME: required,
  XDS_ADDRESS: z.string().url().optional(),
  CA_ADDRESS: z.string().url().optional(),
  ROOT_CERT: z.string().optional(),
  TOKEN_FILE: z.string().optional(),
  CONTROL_PLANE_IDENTITY: z.string().optional(),
  LOCAL_CONFIG: z.string().optional(),
  CA_DIR: z.string().optional(),
  TRUST_DOMAIN: z.string().min(1).default("cluster.local"),
  CLUSTER_ID: z.string().min(1).default("Kubernetes"),
  ROOT_NAMESPACE: z.string().min(1).default("istio-system"),
  SECRET_TTL: duration("24h"),
  CONNECTION_TERMINATION_DEADLINE: duration("5s"),
  POOL_MAX_STREAMS_PER_CONNECTION: z.coerce.number().int().min(1).max(10_000).default(100),
  POOL_UNUSED_RELEASE_TIMEOUT: duration("5m"),
  LISTEN_HOST: z.string().default("0.0.0.0"),
  OUTBOUND_PORT: port.default(DEFAULT_PORTS.outbound),
  INBOUND_PLAINTEXT_PORT: port.default(DEFAULT_PORTS.inboundPlaintext),
  HBONE_PORT: port.default(DEFAULT_PORTS.hbone),
  METRICS_PORT: port.default(DEFAULT_PORTS.metrics),
  READINESS_PORT: port.default(DEFAULT_PORTS.readiness),
  ADMIN_PORT: port.default(DEFAULT_PORTS.admin),
  REDIRECT: z.enum(["nft", "sidecar", "none"]).default("none"),
  SIDECAR_POD_IP: z.ipv4().optional(),
  PROXY_UID: z.coerce.number().int().min(0).max(2 ** 31).default(1337),
  LOG_LEVEL: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).default("info"),
}).superRefine((e, ctx) => {
  const cp = e.XDS_ADDRESS ?? e.CA_ADDRESS;
  if (!e.XDS_ADDRESS && !e.LOCAL_CONFIG) ctx.addIssue({ code: "custom", path: ["XDS_ADDRESS"], message: "set XDS_ADDRESS (control plane) or LOCAL_CONFIG (a static file)" });
  if (!e.CA_ADDRESS && !e.XDS_ADDRESS && !e.CA_DIR) ctx.addIssue({ code: "custom", path: ["CA_ADDRESS"], message: "set CA_ADDRESS or XDS_ADDRESS (control plane CA) or CA_DIR (a local CA)" });
  if (cp && !e.ROOT_CERT) ctx.addIssue({ code: "custom", path: ["ROOT_CERT"], message: "is required to verify the control plane" });
  if (cp && !e.TOKEN_FILE) ctx.addIssue({ code: "custom", path: ["TOKEN_FILE"], message: "is required to authenticate to the control plane" });
  if (e.REDIRECT === "sidecar" && !e.SIDECAR_POD_IP) ctx.addIssue({ code: "custom", path: ["SIDECAR_POD_IP"], message: "is required with REDIRECT=sidecar" });
});

export interface ZtunnelConfig {
  node: string;
  /** Where config comes from: the control plane, or a static file. */
  config: { kind: "xds"; address: string } | { kind: "file"; path: string };
  /** Where certificates come from. */
  ca: { kind: "grpc"; address: string } | { kind: "dir"; path: string };
  controlPlane?: { rootCert: string; tokenFile: string; identity: string };
  trustDomain: string;
  clusterId: string;
  rootNamespace: string;
  certTtlSeconds: number;
  drainDeadlineMs: number;
  poolMaxStreams: number;
  poolIdleMs: number;
  listen: ListenConfig;
  redirect: "nft" | "sidecar" | "none";
  /** Sidecar mode: the pod this proxy serves, and the user whose connections are not captured. */
  sidecar?: { podIp: string; proxyUid: number };
  logLevel: LogLevel;
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
    config: e.XDS_ADDRESS ? { kind: "xds", address: e.XDS_ADDRESS } : { kind: "file", path: e.LOCAL_CONFIG! },
    ca: e.CA_ADDRESS || e.XDS_ADDRESS ? { kind: "grpc", address: (e.CA_ADDRESS ?? e.XDS_ADDRESS)! } : { kind: "dir", path: e.CA_DIR! },
    ...(e.ROOT_CERT && e.TOKEN_FILE
      ? { controlPlane: { rootCert: e.ROOT_CERT, tokenFile: e.TOKEN_FILE, identity: e.CONTROL_PLANE_IDENTITY ?? `spiffe://${e.TRUST_DOMAIN}/ns/istio-system/sa/istiod` } }
      : {}),
    trustDomain: e.TRUST_DOMAIN,
    clusterId: e.CLUSTER_ID,
    rootNamespace: e.ROOT_NAMESPACE,
    certTtlSeconds: Math.round(e.SECRET_TTL / 1000),
    drainDeadlineMs: e.CONNECTION_TERMINATION_DEADLINE,
    poolMaxStreams: e.POOL_MAX_STREAMS_PER_CONNECTION,
    poolIdleMs: e.POOL_UNUSED_RELEASE_TIMEOUT,
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
  };
}

export function helpText(): string {
  const width = Math.max(...ENV_DOCS.map(([k]) => k.length));
  return [
    "ztunnel: ambient-lab's per-node L4 proxy (mTLS over HBONE, L4 policy, telemetry)",
    "",
    "Usage: node mesh/ztunnel/main.ts [--help]",
    "Configured by environment variables:",
    ...ENV_DOCS.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    "Signals: SIGTERM/SIGINT drain (stop accepting, wait up to the deadline, then close).",
    "",
  ].join("\n");
}
