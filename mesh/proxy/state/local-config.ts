// LOCAL_CONFIG: ztunnel's static config file in the same resource shapes as the control plane's stream.
// Conversion happens here, at the edge; a bad resource rejects only itself, with its name and every problem.
import net from "node:net";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseCidr } from "../../shared/index.ts";
import { DEFAULT_TRUST_DOMAIN } from "../../shared/index.ts";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import { convertL7 } from "./local-config-l7.ts";
import type { Match, PortMap, ProxyResources } from "./types.ts";
import { parseStringMatch } from "../../api/index.ts";

export interface Rejection {
  kind: "workload" | "service" | "policy" | "route";
  name: string;
  reason: string;
}

export interface ParsedConfig extends ProxyResources {
  rejected: Rejection[];
}

const ip = z.string().refine((s) => net.isIP(s) !== 0, { message: "must be an IP address" });
const cidr = z.string().refine(
  (s) => {
    try {
      parseCidr(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be an IP address or CIDR block" },
);
const port = z.coerce.number().int().min(1).max(65535);
const targetPort = z.coerce.number().int().min(0).max(65535);
const portMap = z.record(z.string(), targetPort).superRefine((m, ctx) => {
  for (const k of Object.keys(m)) {
    if (!port.safeParse(k).success) ctx.addIssue({ code: "custom", message: `service port "${k}" must be 1..65535` });
  }
});
const name = z.string().min(1).max(253);

/** `istio.io/use-waypoint`: the waypoint Service that L7 traffic to this workload or service goes through. */
const waypointSchema = z.strictObject({ hostname: name, namespace: name, hbonePort: port.default(15008) });

const workloadSchema = z.strictObject({
  uid: name,
  name,
  namespace: name,
  workloadIps: z.array(ip).min(1),
  trustDomain: name.default(DEFAULT_TRUST_DOMAIN),
  serviceAccount: name.default("default"),
  node: name,
  protocol: z.enum(["HBONE", "NONE"]).default("HBONE"),
  status: z.enum(["Healthy", "Unhealthy"]).default("Healthy"),
  services: z.record(z.string().regex(/^[^/]+\/[^/]+$/, "service keys are namespace/hostname"), portMap).default({}),
  authorizationPolicies: z.array(z.string().regex(/^[^/]+\/[^/]+$/, "policy keys are namespace/name")).default([]),
  canonicalName: z.string().optional(),
  canonicalRevision: z.string().optional(),
  workloadName: z.string().optional(),
  waypoint: waypointSchema.optional(),
  /** A waypoint pod: it takes HBONE on its own 15008, so ztunnel leaves it alone. */
  nativeHbone: z.boolean().optional(),
});

const serviceSchema = z.strictObject({
  name,
  namespace: name,
  hostname: name,
  vips: z.array(ip).default([]),
  ports: portMap.default({}),
  /** Service port -> what it speaks (http, http2, grpc): a Service port's appProtocol or name prefix. */
  appProtocols: z.record(z.string(), z.enum(["http", "http2", "grpc"])).optional(),
  waypoint: waypointSchema.optional(),
});

const strings = z.array(z.string().min(1)).default([]);
const matchSchema = z.strictObject({
  namespaces: strings,
  notNamespaces: strings,
  principals: strings,
  notPrincipals: strings,
  sourceIps: z.array(cidr).default([]),
  notSourceIps: z.array(cidr).default([]),
  destinationIps: z.array(cidr).default([]),
  notDestinationIps: z.array(cidr).default([]),
  destinationPorts: z.array(port).default([]),
  notDestinationPorts: z.array(port).default([]),
});

const policySchema = z.strictObject({
  name,
  namespace: name,
  scope: z.enum(["Global", "Namespace", "WorkloadSelector"]),
  action: z.enum(["Allow", "Deny"]),
  rules: z.array(z.strictObject({ clauses: z.array(z.strictObject({ matches: z.array(matchSchema) })) })).default([]),
  dryRun: z.boolean().default(false),
});

function toPortMap(m: Record<string, number>): PortMap {
  return new Map(
    Object.entries(m)
      .map(([k, v]) => [Number(k), v] as [number, number])
      .sort((a, b) => a[0] - b[0]),
  );
}

function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

function nameOf(raw: unknown, fields: string[]): string {
  if (raw && typeof raw === "object") {
    const o = raw as Record<string, unknown>;
    const parts = fields.map((f) => o[f]).filter((v): v is string => typeof v === "string");
    if (parts.length) return parts.join("/");
  }
  return "<unnamed>";
}

function listOf(doc: Record<string, unknown>, key: string): unknown[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MeshError(ErrorCode.Config, `LOCAL_CONFIG: "${key}" must be a list`);
  return v;
}

/** Converts a parsed document. Throws only when the document as a whole is unusable. */
export function convertConfig(doc: unknown): ParsedConfig {
  if (doc === null || doc === undefined) return { workloads: [], services: [], policies: [], rejected: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new MeshError(ErrorCode.Config, "LOCAL_CONFIG must be a mapping with workloads, services and policies lists");
  }
  const d = doc as Record<string, unknown>;
  const allowed = ["workloads", "services", "policies", "httpRoutes", "l7Policies"];
  const unknownKeys = Object.keys(d).filter((k) => !allowed.includes(k));
  if (unknownKeys.length) {
    throw new MeshError(ErrorCode.Config, `LOCAL_CONFIG has unknown top-level keys: ${unknownKeys.join(", ")} (allowed: ${allowed.join(", ")})`);
  }
  const out: ParsedConfig = { workloads: [], services: [], policies: [], rejected: [] };
  const seenIps = new Map<string, string>();
  const seenUids = new Set<string>();
  for (const raw of listOf(d, "workloads")) {
    const label = nameOf(raw, ["namespace", "name"]);
    const r = workloadSchema.safeParse(raw);
    if (!r.success) {
      out.rejected.push({ kind: "workload", name: label, reason: describeIssues(r.error) });
      continue;
    }
    const w = r.data;
    const problems: string[] = [];
    if (seenUids.has(w.uid)) problems.push(`uid ${w.uid} is used by an earlier workload`);
    for (const a of w.workloadIps) {
      const other = seenIps.get(a);
      if (other) problems.push(`address ${a} is already used by ${other}`);
    }
    if (problems.length) {
      out.rejected.push({ kind: "workload", name: label, reason: problems.join("; ") });
      continue;
    }
    seenUids.add(w.uid);
    for (const a of w.workloadIps) seenIps.set(a, label);
    out.workloads.push({
      uid: w.uid,
      name: w.name,
      namespace: w.namespace,
      ips: w.workloadIps,
      trustDomain: w.trustDomain,
      serviceAccount: w.serviceAccount,
      node: w.node,
      protocol: w.protocol,
      status: w.status,
      services: new Map(Object.entries(w.services).map(([k, v]) => [k, toPortMap(v)])),
      authorizationPolicies: w.authorizationPolicies,
      canonicalName: w.canonicalName ?? w.workloadName ?? w.name,
      canonicalRevision: w.canonicalRevision ?? "latest",
      workloadName: w.workloadName ?? w.name,
      ...(w.waypoint ? { waypoint: w.waypoint } : {}),
      ...(w.nativeHbone ? { nativeHbone: true as const } : {}),
    });
  }
  const seenVips = new Map<string, string>();
  for (const raw of listOf(d, "services")) {
    const label = nameOf(raw, ["namespace", "name"]);
    const r = serviceSchema.safeParse(raw);
    if (!r.success) {
      out.rejected.push({ kind: "service", name: label, reason: describeIssues(r.error) });
      continue;
    }
    const clash = r.data.vips.filter((v) => seenVips.has(v) || seenIps.has(v));
    if (clash.length) {
      out.rejected.push({
        kind: "service",
        name: label,
        reason: `VIP ${clash.join(", ")} is already used by ${clash.map((v) => seenVips.get(v) ?? seenIps.get(v)).join(", ")}`,
      });
      continue;
    }
    for (const v of r.data.vips) seenVips.set(v, label);
    const { waypoint, appProtocols, ...svc } = r.data;
    const ports = toPortMap(svc.ports);
    const undeclared = Object.keys(appProtocols ?? {}).filter((k) => !ports.has(Number(k)));
    if (undeclared.length) {
      out.rejected.push({ kind: "service", name: label, reason: `appProtocols names port(s) ${undeclared.join(", ")} that are not in ports` });
      continue;
    }
    const protocols = appProtocols && new Map(Object.entries(appProtocols).map(([k, v]) => [Number(k), v] as const));
    out.services.push({ ...svc, ports, ...(protocols?.size ? { appProtocols: protocols } : {}), ...(waypoint ? { waypoint } : {}) });
  }
  for (const raw of listOf(d, "policies")) {
    const label = nameOf(raw, ["namespace", "name"]);
    const r = policySchema.safeParse(raw);
    if (!r.success) {
      out.rejected.push({ kind: "policy", name: label, reason: describeIssues(r.error) });
      continue;
    }
    const p = r.data;
    out.policies.push({
      name: p.name,
      namespace: p.namespace,
      scope: p.scope,
      action: p.action,
      dryRun: p.dryRun,
      rules: p.rules.map((rule) => ({
        clauses: rule.clauses.map((c) => ({ matches: c.matches.map(toMatch) })),
      })),
    });
  }
  if (d.httpRoutes !== undefined || d.l7Policies !== undefined) {
    const l7 = convertL7(listOf(d, "httpRoutes"), listOf(d, "l7Policies"));
    out.routes = l7.routes;
    out.l7Policies = l7.policies;
    out.rejected.push(...l7.rejected);
  }
  return out;
}

function toMatch(m: z.infer<typeof matchSchema>): Match {
  return {
    namespaces: m.namespaces.map(parseStringMatch),
    notNamespaces: m.notNamespaces.map(parseStringMatch),
    principals: m.principals.map(parseStringMatch),
    notPrincipals: m.notPrincipals.map(parseStringMatch),
    sourceIps: m.sourceIps,
    notSourceIps: m.notSourceIps,
    destinationIps: m.destinationIps,
    notDestinationIps: m.notDestinationIps,
    destinationPorts: m.destinationPorts,
    notDestinationPorts: m.notDestinationPorts,
  };
}

/** The config a store holds: everything parsed except the rejections. */
export function toResources(p: ParsedConfig): ProxyResources {
  return {
    workloads: p.workloads,
    services: p.services,
    policies: p.policies,
    ...(p.routes ? { routes: p.routes } : {}),
    ...(p.l7Policies ? { l7Policies: p.l7Policies } : {}),
  };
}

/** Parses LOCAL_CONFIG text. YAML syntax errors reject the whole file (there is nothing to salvage). */
export function parseLocalConfig(text: string): ParsedConfig {
  let doc: unknown;
  try {
    // logLevel error: the library's warnings (odd keys) would go to stderr unbounded; problems surface
    // as rejected resources instead.
    doc = parseYaml(text, { logLevel: "error" });
  } catch (err) {
    throw new MeshError(ErrorCode.Config, `LOCAL_CONFIG is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return convertConfig(doc);
}
