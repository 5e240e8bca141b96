// Pure: `ambientctl local status` as text. Every table's columns are as wide as their widest cell
// (names of any length stay apart), and a pod's MESH column says how it is in the mesh: `ambient`
// (captured by its node's ztunnel), `sidecar` (its own proxy, injected), `waypoint` (it is one), or `no`.
import { textTable } from "../shared/index.ts";

export type MeshMembership = "ambient" | "sidecar" | "waypoint" | "no";

interface Health {
  running: boolean;
  restarts: number;
  lastExit: string;
}

export interface StatusView {
  status: string;
  startedAt: string;
  supervisor: { pid: number | null; running: boolean };
  controlPlane: (Health & { pid: number; grpc: string; admin: string }) | null;
  ztunnels: Array<Health & { node: string; pid: number | null; metrics: string }>;
  waypoints: Array<Health & { gateway: string; pid: number | null; metrics: string }>;
  sidecars: Array<Health & { pod: string; pid: number | null; metrics: string }>;
  prometheus: { pid: number; running: boolean; url: string; netns: string } | null;
  pods: Array<{ namespace: string; name: string; ip: string; node: string; mesh: MeshMembership; app: { running: boolean } | null }>;
  services: Array<{ namespace: string; name: string; vip: string; ports: Array<{ port: number; targetPort: number }> }>;
}

/** Rows of cells (the first one included) -> lines, each column as wide as its widest cell. */
function table(rows: string[][]): string[] {
  return textTable(rows[0]!, rows.slice(1)).trimEnd().split("\n");
}

export function renderStatus(r: StatusView): string {
  const ok = (b: boolean) => (b ? "running" : "NOT RUNNING");
  const restarts = (x: Health) => (x.restarts ? `restarts ${x.restarts} (last exit ${x.lastExit})` : "");
  const parts: string[][] = [
    [
      "supervisor",
      "",
      ok(r.supervisor.running),
      `pid ${r.supervisor.pid ?? "-"}`,
      r.supervisor.running ? "" : "(processes are not restarted: `ambientctl local up` repairs)",
    ],
  ];
  if (r.controlPlane)
    parts.push([
      "control plane",
      "",
      ok(r.controlPlane.running),
      `pid ${r.controlPlane.pid}`,
      `grpc ${r.controlPlane.grpc}  admin ${r.controlPlane.admin}  ${restarts(r.controlPlane)}`,
    ]);
  for (const z of r.ztunnels) parts.push(["ztunnel", z.node, ok(z.running), `pid ${z.pid ?? "-"}`, `${z.metrics}  ${restarts(z)}`]);
  for (const w of r.waypoints) parts.push(["waypoint", w.gateway, ok(w.running), `pid ${w.pid ?? "-"}`, `${w.metrics}  ${restarts(w)}`]);
  for (const s of r.sidecars) parts.push(["sidecar", s.pod, ok(s.running), `pid ${s.pid ?? "-"}`, `${s.metrics}  ${restarts(s)}`]);
  if (r.prometheus) parts.push(["prometheus", "", ok(r.prometheus.running), `pid ${r.prometheus.pid}`, `${r.prometheus.url} (netns ${r.prometheus.netns})`]);
  const pods = table([
    ["POD", "IP", "NODE", "MESH", "APP"],
    ...r.pods.map((p) => [`${p.namespace}/${p.name}`, p.ip, p.node, p.mesh, p.app ? ok(p.app.running) : "-"]),
  ]);
  const services = table([
    ["SERVICE", "VIP", "PORTS"],
    ...r.services.map((s) => [`${s.namespace}/${s.name}`, s.vip, s.ports.map((x) => `${x.port}->${x.targetPort}`).join(", ")]),
  ]);
  return [`cluster: ${r.status} since ${r.startedAt}`, ...table(parts), "", ...pods, "", ...services, ""].join("\n");
}
