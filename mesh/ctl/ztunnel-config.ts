// `ambientctl ztunnel-config workloads|services|policies|certificates`: what one ztunnel holds, read from
// its admin endpoint (/config_dump on localhost:15000, reached by port-forward) and printed as tables,
// as `istioctl ztunnel-config` does. Parsing and rendering are pure; fetching takes a KubeAccess.
import { z } from "zod";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { textTable } from "../shared/index.ts";
import type { KubeAccess, PodRef } from "./kube-access.ts";

export const ZTUNNEL_CONFIG_KINDS = ["workloads", "services", "policies", "certificates"] as const;
export type ZtunnelConfigKind = (typeof ZTUNNEL_CONFIG_KINDS)[number];

export const ZTUNNEL_ADMIN_PORT = 15000;

const waypoint = z.object({ hostname: z.string(), namespace: z.string().optional() }).passthrough().optional();
const portMap = z.record(z.string(), z.number()).default({});

// Our ztunnel's dump; fields upstream ztunnel names differently (workloadIps) are accepted as well.
const dumpSchema = z
  .object({
    node: z.string().optional(),
    configGeneration: z.number().optional(),
    workloads: z
      .array(
        z
          .object({
            name: z.string(),
            namespace: z.string(),
            ips: z.array(z.string()).optional(),
            workloadIps: z.array(z.string()).optional(),
            node: z.string().default(""),
            protocol: z.string().default("NONE"),
            status: z.string().default(""),
            serviceAccount: z.string().default(""),
            waypoint,
          })
          .passthrough(),
      )
      .default([]),
    services: z
      .array(
        z
          .object({
            name: z.string(),
            namespace: z.string(),
            hostname: z.string().default(""),
            vips: z.array(z.string()).default([]),
            ports: portMap,
            waypoint,
          })
          .passthrough(),
      )
      .default([]),
    policies: z
      .array(
        z
          .object({
            name: z.string(),
            namespace: z.string(),
            scope: z.string().default(""),
            action: z.string().default(""),
            dryRun: z.boolean().optional(),
            rules: z.array(z.unknown()).default([]),
          })
          .passthrough(),
      )
      .default([]),
    certificates: z
      .array(
        z
          .object({
            identity: z.string(),
            state: z.string(),
            serial: z.string().optional(),
            notBefore: z.string().optional(),
            notAfter: z.string().optional(),
            lastError: z.string().optional(),
          })
          .passthrough(),
      )
      .default([]),
  })
  .passthrough();

export type ZtunnelDump = z.infer<typeof dumpSchema>;

/** Parses a /config_dump body; a clear error when it is not one. */
export function parseZtunnelDump(body: string, from: string): ZtunnelDump {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MeshError(ErrorCode.Kube, `${from}: /config_dump is not JSON (starts ${JSON.stringify(body.slice(0, 60))}); is this a ztunnel admin port?`);
  }
  const r = dumpSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new MeshError(ErrorCode.Kube, `${from}: /config_dump has an unexpected shape at ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return r.data;
}

const byNsName = <T extends { namespace: string; name: string }>(a: T, b: T) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
// Upstream ztunnel writes addresses as "<network>/<ip>"; the network is empty in one cluster.
const addr = (ip: string) => ip.replace(/^[^/]*\//, "");

/** One table per kind, as istioctl prints them. */
export function renderZtunnelConfig(dump: ZtunnelDump, kind: ZtunnelConfigKind): string {
  switch (kind) {
    case "workloads":
      return textTable(
        ["NAMESPACE", "POD NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL", "STATUS", "SERVICE ACCOUNT"],
        [...dump.workloads]
          .sort(byNsName)
          .map((w) => [
            w.namespace,
            w.name,
            (w.ips ?? w.workloadIps ?? []).map(addr).join(",") || "None",
            w.node || "None",
            w.waypoint?.hostname ?? "None",
            w.protocol,
            w.status,
            w.serviceAccount,
          ]),
      );
    case "services":
      return textTable(
        ["NAMESPACE", "SERVICE NAME", "SERVICE VIP", "WAYPOINT", "PORTS"],
        [...dump.services].sort(byNsName).map((s) => [
          s.namespace,
          s.name,
          s.vips.map(addr).join(",") || "None",
          s.waypoint?.hostname ?? "None",
          Object.entries(s.ports)
            .map(([p, t]) => (String(t) === p ? p : `${p}->${t}`))
            .join(",") || "None",
        ]),
      );
    case "policies":
      return textTable(
        ["NAMESPACE", "POLICY NAME", "ACTION", "SCOPE", "RULES", "DRY RUN"],
        [...dump.policies].sort(byNsName).map((p) => [p.namespace, p.name, p.action, p.scope, String(p.rules.length), p.dryRun ? "yes" : "no"]),
      );
    case "certificates":
      return textTable(
        ["CERTIFICATE NAME", "STATE", "SERIAL NUMBER", "NOT BEFORE", "NOT AFTER", "LAST ERROR"],
        [...dump.certificates]
          .sort((a, b) => a.identity.localeCompare(b.identity))
          .map((c) => [c.identity, c.state, c.serial ?? "-", c.notBefore ?? "-", c.notAfter ?? "-", c.lastError ?? ""]),
      );
  }
}

export interface ZtunnelTarget {
  namespace: string;
  /** Label selector of ztunnel pods. */
  selector: string;
}

export const DEFAULT_ZTUNNEL_TARGET: ZtunnelTarget = { namespace: "istio-system", selector: "app=ztunnel" };

/** The ztunnel pod to ask: the one on `node`, or else the first ready one by node name. */
export async function chooseZtunnel(access: KubeAccess, node: string | undefined, target = DEFAULT_ZTUNNEL_TARGET): Promise<PodRef> {
  const pods = (await access.pods(target.namespace, target.selector)).sort((a, b) => a.node.localeCompare(b.node));
  if (pods.length === 0) {
    throw new MeshError(
      ErrorCode.Kube,
      `no ztunnel pods (${target.selector}) in ${target.namespace} at ${access.server}: is the mesh installed (task full-deploy-local)?`,
    );
  }
  if (node !== undefined) {
    const pod = pods.find((p) => p.node === node);
    if (!pod) throw new MeshError(ErrorCode.Kube, `no ztunnel on node "${node}"; ztunnels run on: ${pods.map((p) => p.node).join(", ")}`);
    return pod;
  }
  return pods.find((p) => p.ready) ?? pods[0]!;
}

export async function fetchZtunnelDump(access: KubeAccess, pod: PodRef, timeoutMs = 10_000): Promise<ZtunnelDump> {
  const from = `ztunnel ${pod.namespace}/${pod.name} on ${pod.node}`;
  const r = await access.httpGet(pod, ZTUNNEL_ADMIN_PORT, "/config_dump", timeoutMs);
  if (r.status !== 200) throw new MeshError(ErrorCode.Kube, `${from}: /config_dump answered HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  return parseZtunnelDump(r.body, from);
}
