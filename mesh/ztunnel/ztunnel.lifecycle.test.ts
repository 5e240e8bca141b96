// Pool limits, idle release, draining, and LOCAL_CONFIG reloads, in-process.
import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { memoryLogger } from "../shared/index.ts";
import { echoServer, roundTrip, type TestServer } from "../testing/index.ts";
import { inProcessMesh, type InProcessMesh } from "../testing/index.ts";
import { LocalConfigSource } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";
import { eventually } from "../testing/expect.ts";

const config = `
workloads:
  - { uid: u-sleep, name: sleep, namespace: demo, workloadIps: [127.0.11.10], serviceAccount: sleep, node: node-1 }
  - { uid: u-echo, name: echo, namespace: demo, workloadIps: [127.0.12.10], serviceAccount: echo, node: node-2 }
`;
const dst = { ip: "127.0.12.10", port: 7071 };

let echo: TestServer;
let mesh: InProcessMesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  await echo?.close();
});

function pools(m: InProcessMesh) {
  return (m.ztunnel("node-1").configDump() as { connections: { pools: Array<{ connections: number; streams: number }> } }).connections.pools;
}

async function openEchoing(m: InProcessMesh): Promise<net.Socket> {
  const s = await m.dial("127.0.11.10", dst);
  s.on("error", () => undefined);
  s.write("hi");
  await new Promise((r) => s.once("data", r));
  return s;
}

describe("HBONE pool", () => {
  it("opens a second connection when the first carries the maximum number of streams", async () => {
    echo = await echoServer(dst.ip, dst.port);
    mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config, tuning: { poolMaxStreams: 3 } });
    const socks = await Promise.all(Array.from({ length: 4 }, () => openEchoing(mesh!)));
    expect(pools(mesh)).toEqual([expect.objectContaining({ connections: 2, streams: 4 })]);
    for (const s of socks) s.destroy();
  });

  it("releases a connection after it has been idle for the release timeout", async () => {
    echo = await echoServer(dst.ip, dst.port);
    mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config, tuning: { poolIdleMs: 200 } });
    expect((await roundTrip(await mesh.dial("127.0.11.10", dst), "x")).toString()).toBe("x");
    expect(pools(mesh)[0]?.connections).toBe(1);
    await eventually(() => pools(mesh!).length === 0, 2000);
  });
});

describe("drain", () => {
  it("stops accepting at once, lets open connections finish, then closes the rest at the deadline", async () => {
    echo = await echoServer(dst.ip, dst.port);
    mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config });
    const open = await openEchoing(mesh);
    const z2 = mesh.ztunnel("node-2");
    const hbone = z2.addresses().hbone;
    const t0 = Date.now();
    const stopped = z2.stop(600);
    // New connections are refused right away...
    await new Promise((r) => setTimeout(r, 50));
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(hbone.port, hbone.ip);
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      s.on("connect", () => resolve("connected"));
    });
    expect(refused).toBe("ECONNREFUSED");
    // ...while the open one still works until the deadline.
    open.write("still here");
    const echoed = await new Promise<Buffer>((r) => open.once("data", r));
    expect(echoed.toString()).toBe("still here");
    const closed = new Promise((r) => open.once("close", r));
    await stopped;
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(z2.readiness.ready).toBe(false);
  });

  it("finishes early when the last connection ends before the deadline", async () => {
    echo = await echoServer(dst.ip, dst.port);
    mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config });
    const open = await openEchoing(mesh);
    const t0 = Date.now();
    const stopped = mesh.ztunnel("node-2").stop(5000);
    setTimeout(() => open.end(), 100);
    await stopped;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe("LOCAL_CONFIG reloads", () => {
  const dir = mkdtempSync(join(tmpdir(), "al-cfg-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("applies a change, skips a bad resource with its name, and keeps the last good config on a broken file", async () => {
    const path = join(dir, "config.yaml");
    writeFileSync(path, config);
    const store = new StateStore();
    const { logger, records } = memoryLogger("info");
    const source = new LocalConfigSource(path, store, logger, 10);
    await source.start();
    expect(store.current.workloads).toHaveLength(2);
    writeFileSync(path, config + "  - { uid: bad, name: broken, namespace: demo, workloadIps: [nope], node: node-1 }\n");
    await eventually(() => records.some((r) => r.msg === "LOCAL_CONFIG resource rejected"));
    expect(records.find((r) => r.msg === "LOCAL_CONFIG resource rejected")).toMatchObject({ resource: "workload demo/broken" });
    expect(store.current.workloads).toHaveLength(2);
    writeFileSync(path, "workloads: [");
    await eventually(() => records.some((r) => r.msg === "LOCAL_CONFIG not applied; keeping the last good config"));
    expect(store.current.workloads).toHaveLength(2);
    writeFileSync(path, "workloads: []\n");
    await eventually(() => store.current.workloads.length === 0);
    await source.close();
  });
});
