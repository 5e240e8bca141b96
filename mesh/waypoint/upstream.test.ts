import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { KernelNetwork, type HbonePool } from "../proxy/index.ts";
import type { Workload } from "../proxy/index.ts";
import { Upstreams, upstreamKey, type UpstreamTarget } from "./upstream.ts";

function workload(protocol: Workload["protocol"], ip = "127.0.0.1"): Workload {
  return {
    uid: "w",
    name: "web",
    namespace: "demo",
    ips: [ip],
    trustDomain: "cluster.local",
    serviceAccount: "web",
    node: "n1",
    protocol,
    status: "Healthy",
    services: new Map(),
    authorizationPolicies: [],
    canonicalName: "web",
    canonicalRevision: "v1",
    workloadName: "web",
  };
}

async function get(upstreams: Upstreams, target: UpstreamTarget): Promise<{ status: number; body: string }> {
  const r = await upstreams.pool(target).request({ path: "/", method: "GET" });
  return { status: r.statusCode, body: await r.body.text() };
}

describe("Upstreams (real sockets)", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  async function serve(keepAlive: boolean): Promise<{ port: number; connections: () => number }> {
    let n = 0;
    const s = http.createServer((_req, res) => {
      if (!keepAlive) res.setHeader("connection", "close");
      res.end("ok");
    });
    s.on("connection", () => n++);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return { port: (s.address() as AddressInfo).port, connections: () => n };
  }

  const deps = () => ({
    identity: { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "waypoint" },
    pool: {} as HbonePool,
    network: new KernelNetwork(),
    connectTimeoutMs: 1000,
  });

  it("reuses keep-alive connections per endpoint", async () => {
    const srv = await serve(true);
    const upstreams = new Upstreams(deps());
    const target = { workload: workload("NONE"), port: srv.port };
    for (let i = 0; i < 10; i++) expect(await get(upstreams, target)).toEqual({ status: 200, body: "ok" });
    // undici frees a connection a tick after its response ends, so back-to-back requests may open a second.
    expect(srv.connections()).toBeLessThanOrEqual(2);
    expect(upstreams.size).toBe(1);
    await upstreams.close();
    expect(upstreams.size).toBe(0);
  });

  it("forgets an endpoint's pool once its last connection is gone, so pools do not accumulate", async () => {
    const srv = await serve(false);
    const upstreams = new Upstreams(deps());
    for (let i = 0; i < 5; i++) {
      const r = await get(upstreams, { workload: workload("NONE"), port: srv.port });
      expect(r.status).toBe(200);
    }
    const until = Date.now() + 2000;
    while (upstreams.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(upstreams.size).toBe(0);
    expect(srv.connections()).toBe(5);
    await upstreams.close();
  });

  it("keeps HBONE and plain connections, and pods of different identities, apart", () => {
    const plain = upstreamKey({ workload: workload("NONE"), port: 80 });
    const hbone = upstreamKey({ workload: workload("HBONE"), port: 80 });
    const other = upstreamKey({ workload: { ...workload("HBONE"), serviceAccount: "other" }, port: 80 });
    expect(new Set([plain, hbone, other]).size).toBe(3);
  });
});
