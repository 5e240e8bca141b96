// The waypoint's L7 resources in its LOCAL_CONFIG (the same shapes the control plane streams).
// A bad resource rejects only itself, with its name and every problem.
import { z } from "zod";
import { parseStringMatch } from "../../api/index.ts";
import type { Rejection } from "./local-config.ts";
import type { HttpRoute, L7Policy } from "./types.ts";

const name = z.string().min(1).max(253);
const port = z.coerce.number().int().min(1).max(65535);
const serviceKey = z.string().regex(/^[^/]+\/[^/]+$/, "service keys are namespace/hostname");
const strings = z.array(z.string().min(1)).default([]);
const matches = strings.transform((l) => l.map(parseStringMatch));
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name")
  .transform((s) => s.toLowerCase());

const routeSchema = z.strictObject({
  name,
  namespace: name,
  parents: z.array(serviceKey).min(1),
  rules: z
    .array(
      z.strictObject({
        matches: z
          .array(
            z.strictObject({
              path: z.strictObject({ type: z.enum(["Exact", "PathPrefix"]), value: z.string().startsWith("/", "paths start with /") }).optional(),
              method: z.enum(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]).optional(),
              headers: z.array(z.strictObject({ name: headerName, value: z.string() })).default([]),
            }),
          )
          .default([]),
        backends: z.array(z.strictObject({ service: serviceKey, port, weight: z.number().int().min(0).max(1_000_000).default(1) })).min(1),
        requestHeaders: z
          .strictObject({
            set: z.record(headerName, z.string()).default({}),
            add: z.record(headerName, z.string()).default({}),
            remove: z.array(headerName).default([]),
          })
          .optional(),
      }),
    )
    .min(1),
});

const policySchema = z.strictObject({
  name,
  namespace: name,
  action: z.enum(["Allow", "Deny"]),
  targets: z
    .array(z.strictObject({ kind: z.enum(["Gateway", "Service"]), namespace: name, name }))
    .min(1, "an L7 policy targets a waypoint (Gateway) or a Service"),
  rules: z
    .array(
      z.strictObject({
        from: z.array(z.strictObject({ principals: matches, notPrincipals: matches, namespaces: matches, notNamespaces: matches })).default([]),
        to: z
          .array(
            z.strictObject({
              methods: strings,
              notMethods: strings,
              paths: matches,
              notPaths: matches,
              ports: z.array(port).default([]),
              notPorts: z.array(port).default([]),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  dryRun: z.boolean().default(false),
});

export interface L7Config {
  routes: HttpRoute[];
  policies: L7Policy[];
  rejected: Rejection[];
}

function describe(err: z.ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

function label(raw: unknown): string {
  const o = (raw ?? {}) as Record<string, unknown>;
  return typeof o.namespace === "string" && typeof o.name === "string" ? `${o.namespace}/${o.name}` : "<unnamed>";
}

export function convertL7(rawRoutes: unknown[], rawPolicies: unknown[]): L7Config {
  const out: L7Config = { routes: [], policies: [], rejected: [] };
  for (const raw of rawRoutes) {
    const r = routeSchema.safeParse(raw);
    if (r.success) out.routes.push(r.data);
    else out.rejected.push({ kind: "route", name: label(raw), reason: describe(r.error) });
  }
  for (const raw of rawPolicies) {
    const r = policySchema.safeParse(raw);
    if (r.success) out.policies.push(r.data);
    else out.rejected.push({ kind: "policy", name: label(raw), reason: describe(r.error) });
  }
  return out;
}
