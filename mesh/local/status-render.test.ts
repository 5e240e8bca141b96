// The status text, golden: columns as wide as their widest cell, and how each pod is in the mesh.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../testing/expect.ts";
import { renderStatus, type StatusView } from "./status-render.ts";

const health = { running: true, restarts: 0, lastExit: "-" };
const view: StatusView = {
  status: "up",
  startedAt: "2026-11-30T21:00:00.000Z",
  supervisor: { pid: 100, running: true },
  controlPlane: { ...health, pid: 101, grpc: "198.18.0.2:15012", admin: "http://198.18.0.2:15014" },
  ztunnels: [
    { ...health, node: "node-1", pid: 102, metrics: "http://198.18.0.11:15020/metrics" },
    { ...health, node: "node-2", pid: null, running: false, restarts: 3, lastExit: "signal SIGKILL", metrics: "http://198.18.0.12:15020/metrics" },
  ],
  waypoints: [
    { ...health, gateway: "ambient-demo/waypoint", pid: 103, metrics: "http://198.18.2.15:15020/metrics" },
    { ...health, gateway: "ambient-demo/reviews-wp", pid: 104, metrics: "http://198.18.1.14:15020/metrics" },
  ],
  sidecars: [{ ...health, pod: "sidecar-demo/bench-server", pid: 105, metrics: "http://198.18.2.16:15020/metrics" }],
  prometheus: null,
  pods: [
    { namespace: "ambient-demo", name: "sleep", ip: "198.18.1.10", node: "node-1", mesh: "ambient", app: null },
    { namespace: "baseline", name: "httpbin", ip: "198.18.2.12", node: "node-2", mesh: "no", app: { running: true } },
    { namespace: "ambient-demo", name: "waypoint", ip: "198.18.2.15", node: "node-2", mesh: "waypoint", app: null },
    { namespace: "sidecar-demo", name: "bench-server", ip: "198.18.2.16", node: "node-2", mesh: "sidecar", app: { running: false } },
  ],
  services: [{ namespace: "sidecar-demo", name: "bench-server", vip: "198.19.0.15", ports: [{ port: 8080, targetPort: 8080 }] }],
};

describe("ambientctl local status (text)", () => {
  it("renders every part in aligned columns (golden)", () => {
    expectGolden(join(import.meta.dirname, "testdata/status.txt"), renderStatus(view));
  });

  it("keeps long names apart from the next column", () => {
    const lines = renderStatus(view).split("\n");
    expect(lines.find((l) => l.startsWith("sidecar-demo/bench-server"))).toMatch(
      /^sidecar-demo\/bench-server {2,}198\.18\.2\.16 {2,}node-2 {2,}sidecar {2,}NOT RUNNING$/,
    );
    expect(lines.find((l) => l.startsWith("waypoint"))).toMatch(/^waypoint {2,}ambient-demo\/waypoint {2,}running/);
  });
});

describe("the default cluster's placement", () => {
  it("spreads the servers over every node but the clients', so extra nodes carry traffic; two nodes keep today's layout", async () => {
    const { defaultTopology } = await import("./default-topology.ts");
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "al-topo-"));
    try {
      const five = await defaultTopology({ nodes: 5, workDir: dir, prefix: "al-t" });
      const perNode = new Map<string, string[]>();
      for (const p of five.pods) perNode.set(p.node, [...(perNode.get(p.node) ?? []), `${p.namespace}/${p.name}`]);
      expect([...perNode.keys()].sort()).toEqual(["node-1", "node-2", "node-3", "node-4", "node-5"]);
      expect(perNode.get("node-1")!.every((p) => p.endsWith("/sleep"))).toBe(true);
      const two = await defaultTopology({ nodes: 2, workDir: dir, prefix: "al-t" });
      expect(two.pods.filter((p) => p.node === "node-2").every((p) => p.name !== "sleep")).toBe(true);
      expect(two.pods.filter((p) => p.node === "node-1").map((p) => p.name)).toEqual(["sleep", "sleep", "sleep"]);
      const one = await defaultTopology({ nodes: 1, workDir: dir, prefix: "al-t" });
      expect(new Set(one.pods.map((p) => p.node))).toEqual(new Set(["node-1"]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
