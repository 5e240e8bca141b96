import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import http from "node:http";
import { FLOOR_PORTS, floorRelayApps, floorWaypointApps, type Framing } from "./floor.ts";

// The floor relays carry bytes both ways, so the figures bench:ztunnel prints for them are of a working
// relay. Loopback addresses 127.0.0.x only; every process and file is removed.
describe("floor relay pair (real TLS, real processes)", () => {
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  const servers: Array<net.Server | http.Server> = [];
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    for (const s of servers) s.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const echo = async (ip: string): Promise<number> => {
    const s = net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, ip, r));
    return (s.address() as net.AddressInfo).port;
  };

  const roundTrip = (ip: string, port: number, payload: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const c = net.connect({ host: ip, port, allowHalfOpen: true });
      const got: Buffer[] = [];
      c.on("data", (d: Buffer) => got.push(d));
      c.on("end", () => resolve(Buffer.concat(got)));
      c.on("error", reject);
      c.end(payload);
    });

  const waitListening = async (ip: string, port: number) => {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const c = net.connect({ host: ip, port }, () => (c.destroy(), r(true)));
        c.on("error", () => r(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nothing listens on ${ip}:${port}`);
  };

  it.each<Framing>(["h2", "own", "tls"])("relays 1 MiB both ways and passes the half-close (%s)", async (framing) => {
    const dir = await mkdtemp(join(os.tmpdir(), "al-floor-"));
    dirs.push(dir);
    const outIp = { h2: "127.0.0.61", tls: "127.0.0.63", own: "127.0.0.68" }[framing];
    const inIp = { h2: "127.0.0.62", tls: "127.0.0.64", own: "127.0.0.69" }[framing];
    const port = await echo("127.0.0.1");
    const apps = await floorRelayApps(dir, framing, { outIp, inIp, http: { ip: "127.0.0.1", port }, bulk: { ip: "127.0.0.1", port } });
    for (const app of [apps.in, apps.out]) {
      const p = spawn(app.cmd, app.args, { stdio: ["ignore", "ignore", "inherit"] });
      procs.push(p);
    }
    await waitListening(inIp, FLOOR_PORTS.hbone);
    await waitListening(outIp, FLOOR_PORTS.http);
    const payload = Buffer.alloc(1 << 20, framing);
    const back = await roundTrip(outIp, FLOOR_PORTS.http, payload);
    expect(back.equals(payload)).toBe(true);
  });

  it("the floor waypoint forwards HTTP/1.1 requests over HBONE both ways, keep-alive, bodies included", async () => {
    const dir = await mkdtemp(join(os.tmpdir(), "al-floor-"));
    dirs.push(dir);
    const [outIp, l7Ip, inIp] = ["127.0.0.65", "127.0.0.66", "127.0.0.67"];
    const app = http.createServer((req, res) => {
      const body: Buffer[] = [];
      req.on("data", (c: Buffer) => body.push(c));
      req.on("end", () => res.writeHead(201, { "x-seen": `${req.method} ${req.url} ${req.headers["x-test"]}` }).end(Buffer.concat(body)));
    });
    servers.push(app);
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const apps = await floorWaypointApps(dir, { outIp, l7Ip, inIp, http: { ip: "127.0.0.1", port: (app.address() as net.AddressInfo).port } });
    for (const a of [apps.in, apps.l7, apps.out]) procs.push(spawn(a.cmd, a.args, { stdio: ["ignore", "ignore", "inherit"] }));
    await waitListening(inIp, FLOOR_PORTS.hbone);
    await waitListening(l7Ip, FLOOR_PORTS.hbone);
    await waitListening(outIp, FLOOR_PORTS.http);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const call = (path: string, body: string) =>
      new Promise<{ status: number; seen: string; body: string }>((resolve, reject) => {
        const req = http.request({ host: outIp, port: FLOOR_PORTS.http, path, method: "POST", agent, headers: { "x-test": "yes" } }, (res) => {
          let b = "";
          res.setEncoding("utf8").on("data", (c: string) => (b += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, seen: String(res.headers["x-seen"]), body: b }));
        });
        req.on("error", reject);
        req.end(body);
      });
    for (let i = 0; i < 3; i++) expect(await call(`/r${i}`, `body ${i}`)).toEqual({ status: 201, seen: `POST /r${i} yes`, body: `body ${i}` });
    agent.destroy();
  });
});
