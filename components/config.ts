// The stack's configuration, typed and validated at start. Every problem is reported at once, each with
// the key (as `pulumi config set` spells it) and what it accepts. Pure: index.ts reads pulumi.Config.
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { DEFAULT_TRUST_DOMAIN } from "../mesh/shared/index.ts";

const PROJECT = "ambient-lab";

const kind = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label")
    .default("ambient-lab"),
  workers: z.number().int().min(1).max(10).default(2),
  /** Pinned node image (kind's releases list the digests per Kubernetes version). */
  nodeImage: z.string().default("kindest/node:v1.33.1"),
});

const eks = z.strictObject({
  // The EKS cluster's name and the ECR repositories' prefix: ECR needs lowercase.
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and -, at most 63 (it prefixes the ECR repositories)")
    .default("ambient-lab"),
  region: z
    .string()
    .regex(/^[a-z]{2}-[a-z]+-\d$/, "must be an AWS region such as us-east-1")
    .default("us-east-1"),
  instanceType: z.string().default("t3.medium"),
  // A t3.medium holds 17 pods; three nodes fit the mesh, monitoring, samples and the load generator.
  desiredNodes: z.number().int().min(1).max(50).default(3),
  minNodes: z.number().int().min(1).max(50).default(3),
  maxNodes: z.number().int().min(1).max(50).default(5),
  kubernetesVersion: z
    .string()
    .regex(/^1\.\d+$/, "must be a minor version such as 1.33")
    .default("1.33"),
});

const schema = z.strictObject({
  cluster: z
    .strictObject({
      provider: z.enum(["kind", "eks"], { error: () => 'must be "kind" or "eks"' }),
      kind: kind.default(kind.parse({})),
      eks: eks.default(eks.parse({})),
    })
    .superRefine((c, ctx) => {
      if (c.eks.minNodes > c.eks.desiredNodes || c.eks.desiredNodes > c.eks.maxNodes) {
        ctx.addIssue({
          code: "custom",
          path: ["eks", "desiredNodes"],
          message: `must satisfy minNodes (${c.eks.minNodes}) <= desiredNodes (${c.eks.desiredNodes}) <= maxNodes (${c.eks.maxNodes})`,
        });
      }
    }),
  // `ambient-lab:mesh` is the mesh to install: `pulumi config set ambient-lab:mesh istio` (the shorthand), or
  // an object whose `kind` says it, beside our mesh's settings.
  mesh: z
    .preprocess(
      (v) => (typeof v === "string" ? { kind: v } : v),
      z.strictObject({
        kind: z
          .enum(["ambient-lab", "istio"], { error: () => 'must be "ambient-lab" (ours) or "istio" (upstream Istio, ambient and sidecar)' })
          .default("ambient-lab"),
        trustDomain: z
          .string()
          .regex(/^[a-z0-9.-]+$/, "must be a DNS name such as cluster.local")
          .default(DEFAULT_TRUST_DOMAIN),
        imageTag: z
          .string()
          .regex(/^[\w][\w.-]{0,127}$/, "must be an image tag")
          .refine((t) => t !== "latest", { message: 'must be pinned: "latest" is not allowed' })
          .default("0.1.0"),
        logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
      }),
    )
    .default({ kind: "ambient-lab", trustDomain: DEFAULT_TRUST_DOMAIN, imageTag: "0.1.0", logLevel: "info" }),
  versions: z
    .strictObject({
      certManager: z
        .string()
        .regex(/^v\d+\.\d+\.\d+$/, "must be a pinned version such as v1.18.2")
        .default("v1.18.2"),
      kubePrometheusStack: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, "must be a pinned chart version such as 75.15.1")
        .default("75.15.1"),
      metricsServer: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, "must be a pinned chart version such as 3.12.2")
        .default("3.12.2"),
      gatewayApi: z
        .string()
        .regex(/^v\d+\.\d+\.\d+$/, "must be a pinned version such as v1.3.0")
        .default("v1.3.0"),
      k6: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, "must be a pinned grafana/k6 image version such as 1.1.0")
        .default("1.1.0"),
    })
    .default({ certManager: "v1.18.2", kubePrometheusStack: "75.15.1", metricsServer: "3.12.2", gatewayApi: "v1.3.0", k6: "1.1.0" }),
  monitoring: z.boolean().default(true),
  benchmark: z
    .strictObject({
      rate: z.number().int().min(1).max(100_000).default(1000),
      duration: z
        .string()
        .regex(/^\d+[sm]$/, 'must be a k6 duration such as "60s" or "2m"')
        .default("60s"),
      connections: z.number().int().min(1).max(1000).default(4),
      payloadBytes: z.number().int().min(0).max(1_048_576).default(1024),
      modes: z
        .array(z.enum(["baseline", "sidecar", "ambient", "waypoint"]))
        .min(1)
        .default(["baseline", "sidecar", "ambient", "waypoint"]),
    })
    .default({ rate: 1000, duration: "60s", connections: 4, payloadBytes: 1024, modes: ["baseline", "sidecar", "ambient", "waypoint"] }),
});

export type StackConfig = z.infer<typeof schema>;

export class StackConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid stack configuration:\n  ${problems.join("\n  ")}`);
    this.name = "StackConfigError";
    this.problems = problems;
  }
}

function key(path: PropertyKey[]): string {
  const [top, ...rest] = path.map(String);
  return `${PROJECT}:${top}${rest.length ? ` (path ${rest.join(".")})` : ""}`;
}

/** Validates raw config values (the objects `pulumi config set --path` builds). */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const r = schema.safeParse(raw);
  if (!r.success) {
    throw new StackConfigError(
      r.error.issues.map((i) => {
        if (i.code === "unrecognized_keys") return `${key(i.path)}: unknown key(s) ${i.keys.join(", ")}`;
        if (i.code === "invalid_type" && i.input === undefined)
          return `${key(i.path)}: is required (pulumi config set --path '${i.path.map(String).join(".")}' <value>)`;
        return `${key(i.path)}: ${i.message}`;
      }),
    );
  }
  return r.data;
}

/**
 * The kind cluster a stack file (Pulumi.<stack>.yaml) describes, for tools that run without the Pulumi
 * engine (cleanup): its `ambient-lab:cluster` key through the same schema, so defaults agree.
 * Undefined for a stack that is not on kind.
 */
export function kindClusterNameOf(stackFile: string): string | undefined {
  const doc = (parseYaml(stackFile) ?? {}) as { config?: Record<string, unknown> };
  const cluster = doc.config?.["ambient-lab:cluster"];
  if (cluster === undefined) return undefined;
  const parsed = parseStackConfig({ cluster });
  return parsed.cluster.provider === "kind" ? parsed.cluster.kind.name : undefined;
}
