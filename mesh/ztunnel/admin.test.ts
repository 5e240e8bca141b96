import { afterEach, describe, expect, it } from "vitest";
import { memoryLogger } from "../shared/index.ts";
import { createRootCa } from "../shared/index.ts";
import { LoopbackNetwork } from "../testing/index.ts";
import { Ztunnel } from "./app.ts";
import { FileCaClient } from "../proxy/index.ts";
import { parseLocalConfig } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";

let zt: Ztunnel | undefined;
afterEach(async () => {
  await zt?.stop(0);
  zt = undefined;
});

async function start(onQuit?: () => void): Promise<{ zt: Ztunnel; store: StateStore; records: Array<Record<string, unknown>> }> {
  const store = new StateStore();
  const { logger, records } = memoryLogger("info");
  const z = new Ztunnel({
    node: "node-1",
    trustDomain: "cluster.local",
    listen: { host: "127.0.0.1", outbound: 0, inboundPlaintext: 0, hbone: 0, metrics: 0, readiness: 0, admin: 0 },
    state: store,
    ca: FileCaClient.fromMaterial(await createRootCa({ trustDomain: "cluster.local" })),
    network: new LoopbackNetwork(),
    log: logger,
    ...(onQuit ? { onQuit } : {}),
  });
  await z.start();
  zt = z;
  return { zt: z, store, records };
}

const url = (z: Ztunnel, which: "admin" | "metrics" | "readiness", path: string) => `http://${z.addresses()[which].ip}:${z.addresses()[which].port}${path}`;

describe("ztunnel admin, metrics and readiness endpoints", () => {
  it("is not ready until config arrives, then ready", async () => {
    const { zt, store } = await start();
    let r = await fetch(url(zt, "readiness", "/healthz/ready"));
    expect(r.status).toBe(503);
    expect(await r.text()).toContain("waiting for config");
    store.replace(parseLocalConfig("workloads: []"));
    r = await fetch(url(zt, "readiness", "/healthz/ready"));
    expect(r.status).toBe(200);
  });

  it("binds admin to localhost only and dumps config with sorted keys", async () => {
    const { zt, store } = await start();
    expect(zt.addresses().admin.ip).toBe("127.0.0.1");
    store.replace(parseLocalConfig("workloads:\n  - { uid: u1, name: a, namespace: demo, workloadIps: [127.0.1.2], node: node-1, serviceAccount: a }\n"));
    const body = await (await fetch(url(zt, "admin", "/config_dump"))).text();
    const dump = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(dump)).toEqual([...Object.keys(dump)].sort());
    expect(dump.node).toBe("node-1");
    expect((dump.workloads as Array<Record<string, unknown>>)[0]).toMatchObject({ name: "a", ips: ["127.0.1.2"] });
    expect(Object.keys((dump.workloads as Array<Record<string, unknown>>)[0]!)).toEqual(
      [...Object.keys((dump.workloads as Array<Record<string, unknown>>)[0]!)].sort(),
    );
  });

  it("changes the log level with POST /logging and refuses unknown levels", async () => {
    const { zt } = await start();
    expect(await (await fetch(url(zt, "admin", "/logging"))).json()).toEqual({ level: "info" });
    expect((await fetch(url(zt, "admin", "/logging?level=debug"))).status).toBe(405);
    expect(await (await fetch(url(zt, "admin", "/logging?level=debug"), { method: "POST" })).json()).toEqual({ level: "debug" });
    const bad = await fetch(url(zt, "admin", "/logging?level=chatty"), { method: "POST" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("use one of trace, debug, info, warn, error");
  });

  it("serves Prometheus text on /metrics and /stats/prometheus", async () => {
    const { zt } = await start();
    for (const path of ["/metrics", "/stats/prometheus"]) {
      const r = await fetch(url(zt, "metrics", path));
      expect(r.status).toBe(200);
      expect(await r.text()).toContain("# TYPE istio_tcp_connections_opened_total counter");
    }
  });

  it("drains and exits on POST /quitquitquit", async () => {
    let quit!: () => void;
    const quitted = new Promise<void>((r) => (quit = r));
    const { zt } = await start(() => quit());
    expect((await fetch(url(zt, "admin", "/quitquitquit"))).status).toBe(405);
    const r = await fetch(url(zt, "admin", "/quitquitquit"), { method: "POST" });
    expect(await r.text()).toContain("draining");
    await quitted;
    expect(zt.readiness.waitingFor).toContain("draining");
  });
});
