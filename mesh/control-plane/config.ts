// The control plane's process configuration from the environment. Validated at start; every message
// names the variable and what it accepts.
import { z } from "zod";
import { ErrorCode, MeshError, DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import { LOG_LEVELS, type LogLevel } from "../shared/index.ts";

export const ENV_DOCS: Array<[string, string]> = [
  ["DISCOVERY", "files (default): watch CONFIG_DIR; kubernetes: watch the API server (in-cluster or KUBECONFIG)"],
  ["CONFIG_DIR", "directory of Kubernetes YAML to watch (DISCOVERY=files)"],
  ["STATE_DIR", "where file mode keeps its CA (ca/), bootstrap tokens (tokens/) and the published root-cert.pem"],
  ["CA_DIR", "cacerts directory (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); default STATE_DIR/ca, created if missing"],
  ["BOOTSTRAP_NODES", "comma-separated nodes to create bootstrap tokens for (file mode); nodes seen in the config get one too"],
  [
    "BOOTSTRAP_TOKEN_TTL",
    "file mode: lifetime of bootstrap tokens in seconds (default 43200, as Istio's projected istio-token); rotated at half-life, expired ones refused",
  ],
  ["PROXY_SERVICE_ACCOUNTS", "Kubernetes mode: service accounts (ns/name, comma-separated) allowed to connect (default istio-system/ztunnel)"],
  ["WAYPOINT_IMAGE", "Kubernetes mode: image for the Deployment of each istio-waypoint Gateway (unset: Gateways get no Deployment)"],
  ["WAYPOINT_PULL_POLICY", "imagePullPolicy of waypoint Deployments: Always, IfNotPresent (default), Never (kind with loaded images)"],
  [
    "SIDECAR_IMAGE",
    "Kubernetes mode: the proxy image the sidecar injection webhook (WEBHOOK_ADDRESS) adds to pods in namespaces labelled istio-injection=enabled or pods labelled sidecar.istio.io/inject=true (unset: no webhook)",
  ],
  ["SIDECAR_PULL_POLICY", "imagePullPolicy of injected sidecars: IfNotPresent (default), Never (kind with loaded images)"],
  ["WEBHOOK_ADDRESS", "the injection webhook, TLS with a certificate for istiod.<POD_NAMESPACE>.svc from the mesh CA (default 0.0.0.0:15017)"],
  ["XDS_SERVICE_ADDRESS", "where waypoints reach the control plane (default https://istiod.<POD_NAMESPACE>.svc:15012)"],
  ["TRUST_DOMAIN", "trust domain (default cluster.local)"],
  ["CLUSTER_ID", "cluster name (default Kubernetes)"],
  ["ROOT_NAMESPACE", "namespace whose policies are mesh-wide (default istio-system)"],
  ["POD_NAMESPACE, SERVICE_ACCOUNT", "the control plane's own identity (default istio-system, istiod)"],
  ["GRPC_ADDRESS", "config stream and CA, TLS (default 0.0.0.0:15012)"],
  ["ADMIN_ADDRESS", "debug, metrics, readiness (default 0.0.0.0:15014)"],
  ["DEBOUNCE", "how long to gather changes before translating, ms (default 100)"],
  ["DEFAULT_CERT_TTL, MAX_CERT_TTL", "workload certificate lifetimes in seconds (default 86400, 2592000)"],
  [
    "AFTER_BURST_GC",
    "after a burst of proxies' first syncs: compact (default: a memory-reducing collection, ~1.2 s pause at 10,000 pods, the least memory), plain (one ordinary major collection, shorter pause, ~80 MB more resident), off (V8 alone decides); needs node --expose-gc",
  ],
  ["LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")} (default info)`],
];

const addr = z.string().regex(/^[0-9.]+:\d+$/, "must be ip:port");

const schema = z
  .object({
    DISCOVERY: z.enum(["files", "kubernetes"]).default("files"),
    CONFIG_DIR: z.string().optional(),
    STATE_DIR: z.string().optional(),
    CA_DIR: z.string().optional(),
    BOOTSTRAP_NODES: z.string().default(""),
    BOOTSTRAP_TOKEN_TTL: z.coerce.number().int().min(2).default(43_200),
    PROXY_SERVICE_ACCOUNTS: z.string().default("istio-system/ztunnel"),
    WAYPOINT_IMAGE: z.string().min(1).optional(),
    WAYPOINT_PULL_POLICY: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
    SIDECAR_IMAGE: z.string().min(1).optional(),
    SIDECAR_PULL_POLICY: z.enum(["IfNotPresent", "Never"]).default("IfNotPresent"),
    WEBHOOK_ADDRESS: addr.default("0.0.0.0:15017"),
    XDS_SERVICE_ADDRESS: z.string().url().optional(),
    TRUST_DOMAIN: z.string().min(1).default(DEFAULT_TRUST_DOMAIN),
    CLUSTER_ID: z.string().min(1).default("Kubernetes"),
    ROOT_NAMESPACE: z.string().min(1).default("istio-system"),
    POD_NAMESPACE: z.string().min(1).default("istio-system"),
    SERVICE_ACCOUNT: z.string().min(1).default("istiod"),
    GRPC_ADDRESS: addr.default("0.0.0.0:15012"),
    ADMIN_ADDRESS: addr.default("0.0.0.0:15014"),
    DEBOUNCE: z.coerce.number().int().min(0).max(10_000).default(100),
    DEFAULT_CERT_TTL: z.coerce.number().int().min(60).default(86_400),
    MAX_CERT_TTL: z.coerce
      .number()
      .int()
      .min(60)
      .default(30 * 86_400),
    AFTER_BURST_GC: z.enum(["compact", "plain", "off"]).default("compact"),
    LOG_LEVEL: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).default("info"),
  })
  .superRefine((e, ctx) => {
    if (e.DISCOVERY === "files" && !e.CONFIG_DIR) ctx.addIssue({ code: "custom", path: ["CONFIG_DIR"], message: "is required with DISCOVERY=files" });
    if (e.DISCOVERY === "files" && !e.STATE_DIR) ctx.addIssue({ code: "custom", path: ["STATE_DIR"], message: "is required with DISCOVERY=files" });
  });

export type ControlPlaneConfig = z.infer<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): ControlPlaneConfig {
  const r = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!r.success) {
    throw new MeshError(
      ErrorCode.Config,
      `invalid control plane configuration:\n  ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n  ")}\n(run with --help for every variable)`,
    );
  }
  return r.data;
}

export function helpText(): string {
  const width = Math.max(...ENV_DOCS.map(([k]) => k.length));
  return [
    "control-plane: ambient-lab's istiod: discovery, certificate authority and config stream",
    "",
    "Usage: node mesh/control-plane/main.ts [--help]",
    "Configured by environment variables:",
    ...ENV_DOCS.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
  ].join("\n");
}
