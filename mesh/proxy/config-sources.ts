// Environment parsing both proxies (ztunnel and the waypoint) share: durations, ports, and where config
// and certificates come from (the control plane, or a static file and a local CA).
import { z } from "zod";
import type { ProxyTuning } from "./tuning.ts";
import { DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";

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

export const SOURCE_DOCS: Array<[string, string]> = [
  ["XDS_ADDRESS", "control plane for config, e.g. https://198.18.0.2:15012 (else LOCAL_CONFIG is required)"],
  ["CA_ADDRESS", "control plane for certificates (default XDS_ADDRESS; else CA_DIR is required)"],
  ["ROOT_CERT", "trust bundle the control plane's certificate chains to (required with XDS_ADDRESS/CA_ADDRESS)"],
  ["TOKEN_FILE", "bearer token for the control plane (required with XDS_ADDRESS/CA_ADDRESS)"],
  ["CONTROL_PLANE_IDENTITY", "SPIFFE identity the control plane must present (default spiffe://<trust domain>/ns/istio-system/sa/istiod)"],
];

/** The variables that say where config and certificates come from. */
export const sourceFields = {
  XDS_ADDRESS: z.string().url().optional(),
  CA_ADDRESS: z.string().url().optional(),
  ROOT_CERT: z.string().optional(),
  TOKEN_FILE: z.string().optional(),
  CONTROL_PLANE_IDENTITY: z.string().optional(),
  LOCAL_CONFIG: z.string().optional(),
  CA_DIR: z.string().optional(),
  TRUST_DOMAIN: z.string().min(1).default(DEFAULT_TRUST_DOMAIN),
};

export const STARTUP_DOCS: Array<[string, string]> = [
  [
    "STARTUP_EFFICIENCY",
    "on (default): V8's efficiency mode until the first config is applied (a large mesh's first sync at about half the CPU); off: V8's defaults",
  ],
];

/** Read before the rest of the configuration too (startup-efficiency.ts); validated here with it. */
export const startupFields = {
  STARTUP_EFFICIENCY: z.enum(["on", "off"]).default("on"),
};

type SourceEnv = z.infer<z.ZodObject<typeof sourceFields>>;

/** The cross-variable rules, for a schema's superRefine. */
export function checkSources(e: SourceEnv, ctx: z.RefinementCtx): void {
  const cp = e.XDS_ADDRESS ?? e.CA_ADDRESS;
  if (!e.XDS_ADDRESS && !e.LOCAL_CONFIG)
    ctx.addIssue({ code: "custom", path: ["XDS_ADDRESS"], message: "set XDS_ADDRESS (control plane) or LOCAL_CONFIG (a static file)" });
  if (!e.CA_ADDRESS && !e.XDS_ADDRESS && !e.CA_DIR)
    ctx.addIssue({ code: "custom", path: ["CA_ADDRESS"], message: "set CA_ADDRESS or XDS_ADDRESS (control plane CA) or CA_DIR (a local CA)" });
  if (cp && !e.ROOT_CERT) ctx.addIssue({ code: "custom", path: ["ROOT_CERT"], message: "is required to verify the control plane" });
  if (cp && !e.TOKEN_FILE) ctx.addIssue({ code: "custom", path: ["TOKEN_FILE"], message: "is required to authenticate to the control plane" });
}

export interface ProxySources {
  /** Where config comes from: the control plane, or a static file. */
  config: { kind: "xds"; address: string } | { kind: "file"; path: string };
  /** Where certificates come from. */
  ca: { kind: "grpc"; address: string } | { kind: "dir"; path: string };
  controlPlane?: { rootCert: string; tokenFile: string; identity: string };
}

/** After checkSources passed. */
export function resolveSources(e: SourceEnv): ProxySources {
  return {
    config: e.XDS_ADDRESS ? { kind: "xds", address: e.XDS_ADDRESS } : { kind: "file", path: e.LOCAL_CONFIG! },
    ca: e.CA_ADDRESS || e.XDS_ADDRESS ? { kind: "grpc", address: (e.CA_ADDRESS ?? e.XDS_ADDRESS)! } : { kind: "dir", path: e.CA_DIR! },
    ...(e.ROOT_CERT && e.TOKEN_FILE
      ? {
          controlPlane: {
            rootCert: e.ROOT_CERT,
            tokenFile: e.TOKEN_FILE,
            identity: e.CONTROL_PLANE_IDENTITY ?? `spiffe://${e.TRUST_DOMAIN}/ns/istio-system/sa/istiod`,
          },
        }
      : {}),
  };
}

/** The bounds on what a peer can hold (README, Failure behaviour), shared by ztunnel and the waypoint. */
export const LIMIT_DOCS: Array<[string, string]> = [
  ["HBONE_HANDSHAKE_TIMEOUT", "from accept to a verified HBONE peer; then the socket is closed (default 10s)"],
  ["HBONE_MAX_CONCURRENT_STREAMS", "SETTINGS_MAX_CONCURRENT_STREAMS per HBONE connection (default 100)"],
  ["MAX_HANDSHAKES_PER_SOURCE", "HBONE handshakes in progress from one address (default 64)"],
  ["MAX_CONNECTIONS_PER_SOURCE", "connections held open from one address, per listener (default 1024)"],
  ["MAX_SESSIONS_PER_IDENTITY", "HBONE sessions per source identity (default 1024)"],
  ["HBONE_SESSION_IDLE_TIMEOUT", "an HBONE session without streams is closed after this (default 10m)"],
  ["IDLE_TIMEOUT", "a relayed connection with no bytes either way is closed after this (default 1h)"],
];

export const limitFields = {
  HBONE_HANDSHAKE_TIMEOUT: duration("10s"),
  HBONE_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(100_000).default(100),
  MAX_HANDSHAKES_PER_SOURCE: z.coerce.number().int().min(1).default(64),
  MAX_CONNECTIONS_PER_SOURCE: z.coerce.number().int().min(1).default(1024),
  MAX_SESSIONS_PER_IDENTITY: z.coerce.number().int().min(1).default(1024),
  HBONE_SESSION_IDLE_TIMEOUT: duration("10m"),
  IDLE_TIMEOUT: duration("1h"),
};

/** The part of ProxyTuning an operator sets through the environment. */
export type ProxyLimits = Pick<
  ProxyTuning,
  | "handshakeTimeoutMs"
  | "maxConcurrentStreams"
  | "maxHandshakesPerSource"
  | "maxConnectionsPerSource"
  | "maxSessionsPerIdentity"
  | "sessionIdleMs"
  | "idleTimeoutMs"
>;

export function resolveLimits(e: { [K in keyof typeof limitFields]: z.infer<(typeof limitFields)[K]> }): ProxyLimits {
  return {
    handshakeTimeoutMs: e.HBONE_HANDSHAKE_TIMEOUT,
    maxConcurrentStreams: e.HBONE_MAX_CONCURRENT_STREAMS,
    maxHandshakesPerSource: e.MAX_HANDSHAKES_PER_SOURCE,
    maxConnectionsPerSource: e.MAX_CONNECTIONS_PER_SOURCE,
    maxSessionsPerIdentity: e.MAX_SESSIONS_PER_IDENTITY,
    sessionIdleMs: e.HBONE_SESSION_IDLE_TIMEOUT,
    idleTimeoutMs: e.IDLE_TIMEOUT,
  };
}
