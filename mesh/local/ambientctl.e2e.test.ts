// ambientctl local end to end: real processes and namespaces, the CLI run as users run it.
// Needs root, iproute2, nftables, curl, gunicorn with python3-httpbin, and nginx.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../shared/index.ts";
import { alive } from "./processes.ts";
import { CONTROL_PLANE_UID } from "./cluster-view.ts";
import { ECHO_CALL } from "./apps.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "al-ctl-"));
const prefix = `al-e${randomBytes(2).toString("hex")}`;
const env = { ...process.env, AMBIENT_LAB_STATE_DIR: join(stateDir, "state"), AMBIENT_LAB_PREFIX: prefix };

function ctl(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "local", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function ourNamespaces(): Promise<string[]> {
  return (await run("ip", ["netns", "list"])).stdout
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(prefix));
}

async function curl(pod: string, url: string): Promise<{ code: number; out: string }> {
  const r = await ctl(["exec", pod, "--", "curl", "-sS", "-m", "3", url]);
  return { code: r.code, out: r.stdout + r.stderr };
}

afterAll(async () => {
  await ctl(["down"]);
  expect(await ourNamespaces()).toEqual([]);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe("ambientctl local", () => {
  it("up, calls by service name in both namespaces, status matches reality, policy apply/delete, down leaves nothing", async () => {
    const up = await ctl(["up"]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain("cluster up");
    // Idempotent.
    const again = await ctl(["up"]);
    expect(again.stdout).toContain("already up");

    let ok = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 50 && ok.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      ok = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    }
    expect(ok.out).toMatch(/"url": ?"http:\/\/httpbin:8000\/get"/);
    expect((await curl("baseline/sleep", "http://httpbin.baseline:8000/get")).out).toMatch(/"url": ?"http:\/\/httpbin.baseline:8000\/get"/);
    expect((await curl("ambient-demo/sleep", "http://bench-server.ambient-demo.svc.cluster.local:8080/")).out).toBe("a".repeat(1024));

    const status = JSON.parse((await ctl(["status", "--json"])).stdout) as {
      nodes: Array<{ name: string; netns: string; ip: string; uplink: string }>;
      pods: Array<{ namespace: string; name: string; netns: string; ip: string; node: string; serviceAccount: string; ambient: boolean }>;
      services: Array<{ namespace: string; name: string; vip: string; ports: unknown[] }>;
      controlPlane: { pid: number; running: boolean };
      ztunnels: Array<{ node: string; pid: number; running: boolean }>;
    };
    const namespaces = await ourNamespaces();
    for (const n of status.nodes) {
      expect(namespaces).toContain(n.netns);
      expect((await run("ip", ["-n", n.netns, "-br", "addr", "show", n.uplink])).stdout).toContain(n.ip);
    }
    for (const p of status.pods) {
      expect(namespaces).toContain(p.netns);
      expect((await run("ip", ["-n", p.netns, "-br", "addr", "show", "eth0"])).stdout).toContain(p.ip);
    }
    expect(status.pods.find((p) => p.namespace === "ambient-demo" && p.name === "httpbin")).toMatchObject({
      node: "node-2",
      serviceAccount: "httpbin",
      ambient: true,
    });
    expect(status.pods.find((p) => p.namespace === "baseline" && p.name === "sleep")).toMatchObject({ ambient: false });
    expect(status.services.map((s) => `${s.namespace}/${s.name}`).sort()).toEqual([
      "ambient-demo/bench-server",
      "ambient-demo/echo",
      "ambient-demo/httpbin",
      "ambient-demo/waypoint",
      "baseline/bench-server",
      "baseline/httpbin",
      "sidecar-demo/bench-server",
    ]);
    // The sidecar mode: a proxy beside each sidecar-demo pod.
    expect((await curl("sidecar-demo/sleep", "http://bench-server:8080/")).out).toBe("a".repeat(1024));
    for (const pid of [status.controlPlane.pid, ...status.ztunnels.map((z) => z.pid)]) expect(existsSync(`/proc/${pid}`)).toBe(true);
    expect(status.ztunnels.every((z) => z.running)).toBe(true);
    // `status | head`: the reader goes away after the first chunk; ambientctl ends quietly (finding 9).
    const early = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, "local", "status"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stdout.once("data", () => child.stdout.destroy());
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("exit", (code) => resolve({ code, stderr }));
    });
    expect(early.stderr).not.toMatch(/EPIPE|Unhandled|Error/);
    expect(early.code).toBe(0);

    const policy = join(stateDir, "deny.yaml");
    writeFileSync(
      policy,
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: deny-sleep, namespace: ambient-demo }\nspec: { action: DENY, rules: [{ from: [{ source: { principals: ["cluster.local/ns/ambient-demo/sa/sleep"] } }] }] }\n',
    );
    expect((await ctl(["apply", "-f", policy])).code).toBe(0);
    let denied = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 20 && denied.code === 0; i++) denied = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    expect(denied.code).not.toBe(0);
    expect((await ctl(["delete", "-f", policy])).code).toBe(0);
    let back = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 20 && back.code !== 0; i++) back = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    expect(back.code).toBe(0);

    const bad = join(stateDir, "bad.yaml");
    writeFileSync(
      bad,
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: bad, namespace: ambient-demo }\nspec: { rules: [{ to: [{ operation: { ports: ["http"] } }] }] }\n',
    );
    const refused = await ctl(["apply", "-f", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"http" is not a port number');

    // Supervision (finding 4): a killed ztunnel and a killed control plane come back by themselves, the
    // control plane with the same CA; status shows the restarts and how the process ended.
    type Proc = { pid: number; running: boolean; restarts: number; lastExit: string };
    const stat = async () =>
      JSON.parse((await ctl(["status", "--json"])).stdout) as {
        supervisor: { running: boolean; pid: number };
        controlPlane: Proc;
        ztunnels: Array<Proc & { node: string }>;
      };
    const rootCert = () => readFileSync(join(stateDir, "state", "al-cluster", "control-plane", "root-cert.pem"), "utf8");
    const rootBefore = rootCert();
    expect((await stat()).supervisor.running).toBe(true);
    process.kill(status.ztunnels.find((z) => z.node === "node-2")!.pid, "SIGKILL");
    process.kill(status.controlPlane.pid, "SIGKILL");
    let after = await stat();
    for (let i = 0; i < 50 && !(after.controlPlane.running && after.ztunnels.every((z) => z.running) && after.controlPlane.restarts === 1); i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = await stat();
    }
    expect(after.controlPlane).toMatchObject({ running: true, restarts: 1, lastExit: "signal SIGKILL" });
    expect(after.ztunnels.find((z) => z.node === "node-2")).toMatchObject({ running: true, restarts: 1, lastExit: "signal SIGKILL" });
    expect(after.controlPlane.pid).not.toBe(status.controlPlane.pid);
    expect(rootCert()).toBe(rootBefore);
    let healed = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 50 && healed.code !== 0; i++) healed = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    expect(healed.code).toBe(0);
    // Applied objects and the CA survive the restart: a policy applied now is enforced.
    let reapplied = await ctl(["apply", "-f", policy]);
    for (let i = 0; i < 20 && reapplied.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      reapplied = await ctl(["apply", "-f", policy]);
    }
    expect(reapplied.code, reapplied.stderr).toBe(0);
    let deniedAgain = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 20 && deniedAgain.code === 0; i++) deniedAgain = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    expect(deniedAgain.code).not.toBe(0);
    expect((await ctl(["delete", "-f", policy])).code).toBe(0);

    // The supervisor itself killed, and a ztunnel with it: `up` repairs (same namespaces, same CA).
    const namespacesBefore = await ourNamespaces();
    process.kill(after.supervisor.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    process.kill(after.ztunnels.find((z) => z.node === "node-1")!.pid, "SIGKILL");
    expect((await ctl(["status"])).stdout).toMatch(/supervisor\s+NOT RUNNING/);
    const repair = await ctl(["up"]);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/repairing \(not running: ztunnel\/node-1\)/);
    expect(await ourNamespaces()).toEqual(namespacesBefore);
    expect(rootCert()).toBe(rootBefore);
    const repaired = await stat();
    expect(repaired.supervisor.running).toBe(true);
    expect(repaired.ztunnels.every((z) => z.running)).toBe(true);
    expect((await curl("ambient-demo/sleep", "http://httpbin:8000/get")).code).toBe(0);

    // With the control plane unable to answer, apply says so and fails instead of reporting "applied".
    const frozen = repaired.controlPlane.pid;
    process.kill(frozen, "SIGSTOP");
    try {
      const orphan = await ctl(["apply", "-f", policy]);
      expect(orphan.code).toBe(1);
      expect(orphan.stderr).toMatch(/nothing was applied: the control plane is not running/);
    } finally {
      process.kill(frozen, "SIGCONT");
    }

    const final = await stat();
    const pids = [final.controlPlane.pid, final.supervisor.pid, ...final.ztunnels.map((z) => z.pid)];
    const down = await ctl(["down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(await ourNamespaces()).toEqual([]);
    // Gone, or a zombie waiting for PID 1 to reap it (detached processes are re-parented to it).
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(join(stateDir, "state", "cluster.json"))).toBe(false);
    expect((await ctl(["down"])).stdout).toContain("no local cluster");
  }, 240_000);

  it("a waypoint: bind the namespace, route and authorize HTTP with Gateway API and AuthorizationPolicy, count requests", async () => {
    await ctl(["down"]);
    const up = await ctl(["up"]);
    expect(up.code, up.stderr).toBe(0);
    const status = JSON.parse((await ctl(["status", "--json"])).stdout) as { waypoints: Array<{ gateway: string; running: boolean }> };
    expect(status.waypoints).toMatchObject([{ gateway: "ambient-demo/waypoint", running: true }]);
    const l7 = join(stateDir, "l7.yaml");
    writeFileSync(
      l7,
      [
        "apiVersion: v1\nkind: Namespace\nmetadata: { name: ambient-demo, labels: { istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint } }",
        'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: httpbin, namespace: ambient-demo }\nspec:\n  parentRefs: [{ group: "", kind: Service, name: httpbin, port: 8000 }]\n  rules:\n    - matches: [{ path: { type: PathPrefix, value: /bench } }]\n      backendRefs: [{ name: bench-server, port: 8080 }]\n    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Routed-By, value: waypoint }] } }]\n      backendRefs: [{ name: httpbin, port: 8000 }]',
        'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: no-echo-stream, namespace: ambient-demo }\nspec:\n  targetRefs: [{ kind: Service, group: "", name: echo }]\n  action: DENY\n  rules: [{ to: [{ operation: { paths: [/ambientlab.v1.EchoService/EchoStream] } }] }]',
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: no-delete, namespace: ambient-demo }\nspec:\n  targetRefs: [{ kind: Gateway, group: gateway.networking.k8s.io, name: waypoint }]\n  action: DENY\n  rules: [{ to: [{ operation: { methods: [DELETE] } }] }]",
      ].join("\n---\n") + "\n",
    );
    const applied = await ctl(["apply", "-f", l7]);
    expect(applied.code, applied.stderr).toBe(0);
    // Through the waypoint once its config arrived: the route's header modifier shows in what httpbin echoes.
    let viaWaypoint = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 50 && !/X-Routed-By/i.test(viaWaypoint.out); i++) {
      await new Promise((r) => setTimeout(r, 200));
      viaWaypoint = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    }
    expect(viaWaypoint.out).toMatch(/"X-Routed-By": ?"waypoint"/);
    const del = await ctl(["exec", "ambient-demo/sleep", "--", "curl", "-sS", "-m", "3", "-X", "DELETE", "-w", " %{http_code}", "http://httpbin:8000/delete"]);
    expect(del.stdout).toBe("RBAC: access denied 403");
    expect((await curl("ambient-demo/sleep", "http://httpbin:8000/bench/x")).out).toBe("a".repeat(1024));
    // HTTP/2 with prior knowledge from curl, HTTP/1.1 to httpbin (its port is named http), routed alike.
    const h2 = await ctl([
      "exec",
      "ambient-demo/sleep",
      "--",
      "curl",
      "-sS",
      "-m",
      "3",
      "--http2-prior-knowledge",
      "-w",
      " %{http_version} %{http_code}",
      "http://httpbin:8000/get",
    ]);
    expect(h2.stdout).toMatch(/"X-Routed-By": ?"waypoint"[\s\S]* 2 200$/);
    // gRPC (the echo pod's port is named grpc): unary, a server stream, and a method the policy denies.
    const echo = (args: string[]) => ctl(["exec", "ambient-demo/sleep", "--", process.execPath, ECHO_CALL, ...args]);
    expect(JSON.parse((await echo(["grpc", "http://echo:9090", "hi"])).stdout)).toEqual({ message: "hi", servedBy: "echo" });
    const denied = await echo(["grpc", "http://echo:9090", "hi", "--stream", "2"]);
    expect(JSON.parse(denied.stdout)).toEqual({ error: "PermissionDenied", message: "RBAC: access denied" });
    // A WebSocket, upgraded through the waypoint.
    expect(JSON.parse((await echo(["ws", "ws://echo:8080/chat", "hi"])).stdout)).toEqual({ message: "echo /chat: hi" });
    const metrics = (await ctl(["exec", "ambient-demo/waypoint", "--", "curl", "-s", "-m", "2", "http://127.0.0.1:15020/metrics"])).stdout;
    const lines = metrics.split("\n").filter((l) => l.startsWith("istio_requests_total{"));
    expect(lines.some((l) => l.includes('reporter="waypoint"') && l.includes('source_workload="sleep"') && l.includes('response_code="403"'))).toBe(true);
    expect(lines.some((l) => l.includes('destination_workload="bench-server"') && l.includes('response_code="200"'))).toBe(true);
    expect(lines.some((l) => l.includes('request_protocol="grpc"') && l.includes('grpc_response_status="0"'))).toBe(true);
    expect(lines.some((l) => l.includes('destination_service="echo.ambient-demo.svc.cluster.local"') && l.includes('response_code="101"'))).toBe(true);
    // The destination's ztunnel sees the waypoint as the peer (as in Istio).
    const zt = (await ctl(["exec", "node/node-2", "--", "curl", "-s", "-m", "2", "http://127.0.0.1:15020/metrics"])).stdout;
    expect(zt).toMatch(
      /istio_tcp_connections_opened_total\{reporter="destination"[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/ambient-demo\/sa\/waypoint"/,
    );
    // The waypoint killed: bound traffic fails (it never goes around the waypoint's policy), and the
    // supervisor brings the waypoint back with its routes.
    const wpStatus = async () =>
      (JSON.parse((await ctl(["status", "--json"])).stdout) as { waypoints: Array<{ pid: number; running: boolean; restarts: number }> }).waypoints[0]!;
    const wp = await wpStatus();
    process.kill(wp.pid, "SIGKILL");
    const during = await ctl([
      "exec",
      "ambient-demo/sleep",
      "--",
      "curl",
      "-sS",
      "-m",
      "2",
      "-X",
      "DELETE",
      "-w",
      " %{http_code}",
      "http://httpbin:8000/delete",
    ]);
    expect(during.stdout).not.toMatch(/ 200$/);
    let back = await wpStatus();
    for (let i = 0; i < 50 && !(back.running && back.restarts === 1); i++) {
      await new Promise((r) => setTimeout(r, 200));
      back = await wpStatus();
    }
    expect(back).toMatchObject({ running: true, restarts: 1 });
    let routedAgain = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 50 && !/X-Routed-By/i.test(routedAgain.out); i++) {
      await new Promise((r) => setTimeout(r, 200));
      routedAgain = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    }
    expect(routedAgain.out).toMatch(/"X-Routed-By": ?"waypoint"/);
    // Unbinding sends traffic direct again.
    expect((await ctl(["delete", "-f", l7])).code).toBe(0);
    let direct = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    for (let i = 0; i < 50 && /X-Routed-By/i.test(direct.out); i++) {
      await new Promise((r) => setTimeout(r, 200));
      direct = await curl("ambient-demo/sleep", "http://httpbin:8000/get");
    }
    expect(direct.out).toMatch(/"url": ?"http:\/\/httpbin:8000\/get"/);
    expect(direct.out).not.toMatch(/X-Routed-By/i);
    expect((await ctl(["down"])).code).toBe(0);
    expect(await ourNamespaces()).toEqual([]);
  }, 120_000);

  it("workloads: a Pod injected with a sidecar, a Deployment of ambient pods and a second waypoint start, carry mTLS traffic, and go with delete", async () => {
    await ctl(["down"]);
    const up = await ctl(["up"]);
    expect(up.code, up.stderr).toBe(0);
    const bad = join(stateDir, "bad.yaml");
    writeFileSync(bad, "apiVersion: v1\nkind: Pod\nmetadata: { name: bad, namespace: ambient-demo }\nspec: { containers: [{ name: c, image: nginx }] }\n");
    const refused = await ctl(["apply", "-f", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/nothing was applied:[\s\S]*container c has no command/);
    const w = join(stateDir, "workloads.yaml");
    writeFileSync(
      w,
      [
        "apiVersion: v1\nkind: Namespace\nmetadata: { name: sidecar-demo, labels: { istio-injection: enabled } }",
        'apiVersion: v1\nkind: Pod\nmetadata: { name: web, namespace: sidecar-demo }\nspec:\n  serviceAccountName: web\n  containers: [{ name: web, image: python:3, command: [python3, -m, http.server, "8080"] }]',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api, namespace: ambient-demo }\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{ name: api, image: python:3, command: [python3, -m, http.server], args: ["8081"] }]',
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: reviews-wp, namespace: ambient-demo }\nspec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }",
      ].join("\n---\n") + "\n",
    );
    const applied = await ctl(["apply", "-f", w]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/pod sidecar-demo\/web running on node-\d at [\d.]+ with a sidecar/);
    type Status = {
      pods: Array<{ namespace: string; name: string; ip: string; ambient: boolean; app: { running: boolean } | null }>;
      waypoints: Array<{ gateway: string; running: boolean }>;
    };
    const status = JSON.parse((await ctl(["status", "--json"])).stdout) as Status;
    const pod = (ns: string, name: string) => status.pods.find((p) => p.namespace === ns && p.name === name)!;
    expect(pod("sidecar-demo", "web")).toMatchObject({ ambient: false, app: { running: true } });
    expect(pod("ambient-demo", "api-0")).toMatchObject({ ambient: true, app: { running: true } });
    expect(pod("ambient-demo", "api-1")).toMatchObject({ ambient: true, app: { running: true } });
    expect(status.waypoints).toEqual(expect.arrayContaining([expect.objectContaining({ gateway: "ambient-demo/reviews-wp", running: true })]));
    const code = async (from: string, url: string) =>
      (await ctl(["exec", from, "--", "curl", "-sS", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", url])).stdout;
    // The injected pod: reached from another sidecar pod over mTLS, its sidecar seeing sleep's identity.
    expect(await code("sidecar-demo/sleep", `http://${pod("sidecar-demo", "web").ip}:8080/`)).toBe("200");
    const web = (await ctl(["exec", "sidecar-demo/web", "--", "curl", "-s", "-m", "2", `http://${pod("sidecar-demo", "web").ip}:15020/metrics`])).stdout;
    expect(web).toMatch(
      /istio_tcp_connections_opened_total\{reporter="destination"[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/sidecar-demo\/sa\/sleep"[^}]*destination_principal="spiffe:\/\/cluster\.local\/ns\/sidecar-demo\/sa\/web"[^}]*connection_security_policy="mutual_tls"/,
    );
    // The Deployment's pods are captured by their node's ztunnel like the others in ambient-demo.
    expect(await code("ambient-demo/sleep", `http://${pod("ambient-demo", "api-1").ip}:8081/`)).toBe("200");
    const node = status.pods.find((p) => p.name === "api-1")!.ip.split(".")[2];
    const zt = (await ctl(["exec", `node/node-${node}`, "--", "curl", "-s", "-m", "2", "http://127.0.0.1:15020/metrics"])).stdout;
    expect(zt).toMatch(/istio_tcp_connections_opened_total\{reporter="destination"[^}]*destination_workload="api-1"/);
    // The second waypoint serves one Service once that Service is bound to it (a waypoint per service).
    const ns = join(stateDir, "svc.yaml");
    writeFileSync(ns, "apiVersion: v1\nkind: Service\nmetadata: { name: httpbin, namespace: ambient-demo, labels: { istio.io/use-waypoint: reviews-wp } }\n");
    const unknown = join(stateDir, "unknown-svc.yaml");
    writeFileSync(unknown, "apiVersion: v1\nkind: Service\nmetadata: { name: nope, namespace: ambient-demo }\n");
    const refusedSvc = await ctl(["apply", "-f", unknown]);
    expect(refusedSvc.code).toBe(1);
    expect(refusedSvc.stderr).toMatch(/Service ambient-demo\/nope: not a Service of this cluster/);
    expect((await ctl(["apply", "-f", ns])).code).toBe(0);
    let counted = "";
    for (let i = 0; i < 50 && !counted.includes('destination_service="httpbin.ambient-demo.svc.cluster.local"'); i++) {
      await code("ambient-demo/sleep", "http://httpbin:8000/get");
      counted = (await ctl(["exec", "ambient-demo/reviews-wp", "--", "curl", "-s", "-m", "2", "http://127.0.0.1:15020/metrics"])).stdout;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(counted).toMatch(
      /istio_requests_total\{reporter="waypoint"[^}]*destination_service="httpbin\.ambient-demo\.svc\.cluster\.local"[^}]*response_code="200"/,
    );
    expect((await ctl(["delete", "-f", ns])).code).toBe(0);
    // Deleted: their processes and network namespaces are gone, the cluster's own pods are untouched.
    const before = (await ourNamespaces()).length;
    const deleted = await ctl(["delete", "-f", w]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await ourNamespaces()).length).toBe(before - 4);
    const after = JSON.parse((await ctl(["status", "--json"])).stdout) as Status;
    expect(after.pods.some((p) => ["web", "api-0", "api-1", "reviews-wp"].includes(p.name))).toBe(false);
    expect(await code("ambient-demo/sleep", "http://httpbin:8000/get")).toBe("200");
    expect((await ctl(["down"])).code).toBe(0);
    expect(await ourNamespaces()).toEqual([]);
  }, 180_000);

  it("an up interrupted halfway is fully removed by down", async () => {
    await ctl(["down"]);
    const child = spawn(process.execPath, [CLI, "local", "up"], { env, stdio: ["ignore", "pipe", "pipe"] });
    // Kill it hard as soon as it has started creating processes: no chance to clean up after itself.
    let seen = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`up never reached the control plane step: ${seen}`)), 30_000);
      child.stdout.on("data", (d: Buffer) => {
        seen += d.toString();
        if (seen.includes("starting the control plane")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect((await ourNamespaces()).length).toBeGreaterThan(0);
    const down = await ctl(["down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(await ourNamespaces()).toEqual([]);
    // The control plane it had started is gone too.
    const ps = (await run("ps", ["-eo", "args"])).stdout;
    expect(ps).not.toContain(join(stateDir, "state", "al-cluster"));
  }, 120_000);

  it("up --monitoring runs Prometheus in the cluster network, scraping the control plane and every ztunnel", async () => {
    await ctl(["down"]);
    const up = await ctl(["up", "--monitoring"]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain("Prometheus: http://198.18.0.2:9090");
    let targets: Array<{ labels: { job: string }; health: string }> = [];
    for (let i = 0; i < 60 && !(targets.length === 6 && targets.every((t) => t.health === "up")); i++) {
      await new Promise((r) => setTimeout(r, 500));
      const r = await ctl(["exec", "network", "--", "curl", "-s", "-m", "2", "http://198.18.0.2:9090/api/v1/targets"]);
      try {
        targets = (JSON.parse(r.stdout) as { data: { activeTargets: typeof targets } }).data.activeTargets;
      } catch {
        targets = [];
      }
    }
    expect(targets.map((t) => `${t.labels.job}:${t.health}`).sort()).toEqual([
      "control-plane:up",
      "sidecar:up",
      "sidecar:up",
      "waypoint:up",
      "ztunnel:up",
      "ztunnel:up",
    ]);
    const q = await ctl(["exec", "network", "--", "curl", "-s", "-m", "2", "http://198.18.0.2:9090/api/v1/query?query=pilot_xds"]);
    expect(q.stdout).toMatch(/"value":\[[0-9.]+,"5"\]/); // two ztunnels, the waypoint and two sidecars connected to the control plane
    expect((await ctl(["down"])).code).toBe(0);
    expect(await ourNamespaces()).toEqual([]);
  }, 120_000);

  it("keeps identities apart: pods run as their own users and reach no CA key and no other token; tokens expire and rotate (finding 5)", async () => {
    await ctl(["down"]);
    const up = await ctl(["up", "--token-ttl", "6"]);
    expect(up.code, up.stderr).toBe(0);
    const cpState = join(stateDir, "state", "al-cluster", "control-plane");
    const secrets = join(tmpdir(), `${prefix}-pod-secrets`);
    // The kubelet's volume directories: <namespace>-<pod>/<volume>/<file>, as the pod specs mount them.
    const sidecarToken = (pod: string) => join(secrets, pod.replace("/", "-"), "ambient-lab-istio-token", "istio-token");
    const inPod = async (pod: string, ...cmd: string[]) => ctl(["exec", pod, "--", ...cmd]);
    // The attacker: a shell in a pod outside the mesh, and one in a sidecar pod's application container.
    const uid = Number((await inPod("baseline/sleep", "id", "-u")).stdout.trim());
    expect(uid).toBeGreaterThanOrEqual(40_000);
    for (const pod of ["baseline/sleep", "sidecar-demo/sleep", "ambient-demo/sleep"]) {
      for (const file of [
        join(cpState, "ca", "ca-key.pem"),
        join(cpState, "tokens", "node-1.token"),
        join(cpState, "tokens", "serviceaccount:sidecar-demo:sleep.token"),
        sidecarToken("sidecar-demo/sleep"),
        join(secrets, "ambient-demo-waypoint", "istio-token", "istio-token"),
        join(secrets, "istio-system-ztunnel-node-1", "istio-token", "istio-token"),
      ]) {
        const r = await inPod(pod, "cat", file);
        expect(r.code, `${pod} reads ${file}`).not.toBe(0);
        expect(r.stderr).toMatch(/Permission denied/);
      }
      expect((await inPod(pod, "ls", secrets)).stderr).toMatch(/Permission denied/);
    }
    // Each sidecar proxy has its own user and reads only its own pod's token.
    const st = JSON.parse((await ctl(["status", "--json"])).stdout) as { sidecars: Array<{ pod: string; pid: number }> };
    const proxyUid = (pod: string) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${st.sidecars.find((x) => x.pod === pod)!.pid}/status`, "utf8"))![1]);
    const [a, b] = [proxyUid("sidecar-demo/sleep"), proxyUid("sidecar-demo/bench-server")];
    expect(a).not.toBe(b);
    const asUser = (u: number, file: string) => run("setpriv", [`--reuid=${u}`, `--regid=${u}`, "--clear-groups", "cat", file]);
    expect((await asUser(a, sidecarToken("sidecar-demo/sleep"))).code).toBe(0);
    expect((await asUser(a, sidecarToken("sidecar-demo/bench-server"))).stderr).toMatch(/Permission denied/);
    // The control plane runs as the user its Deployment names (its own here), not root, and owns its CA.
    const cpPid = JSON.parse((await ctl(["status", "--json"])).stdout).controlPlane.pid as number;
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${cpPid}/status`, "utf8"))![1]).toBe(String(CONTROL_PLANE_UID));
    // Tokens rotate at half-life and the copies follow; an expired token is refused by the CA; traffic goes on.
    const caCall = (token: string) =>
      ctl([
        "exec",
        "network",
        "--",
        "curl",
        "-sk",
        "-m",
        "3",
        "--http2",
        "-H",
        "content-type: application/json",
        "-H",
        `authorization: Bearer ${token}`,
        "https://198.18.0.2:15012/ambientlab.v1.CertificateService/CreateCertificate",
        "-d",
        "{}",
      ]);
    const copy = () => readFileSync(sidecarToken("sidecar-demo/sleep"), "utf8").trim();
    const first = copy();
    // The copy changes at the original's half-life; the first token is accepted until it expires, then
    // refused as expired (polled: the cluster's start-up time makes the exact moment unknown).
    let answers = "";
    for (let i = 0; i < 40 && !/expired/.test(answers); i++) {
      answers = (await caCall(first)).stdout;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(answers).toMatch(/"code":"unauthenticated".*expired/);
    expect(copy()).not.toBe(first);
    // The current copy is accepted (authenticated; the empty CSR is what is refused). Tokens live 6 s here
    // and each call starts a process, so the copy read can be a rotation behind: read it again per try.
    let current = "";
    for (let i = 0; i < 6 && !/"code":"invalid_argument"/.test(current); i++) current = (await caCall(copy())).stdout;
    expect(current).toMatch(/"code":"invalid_argument"/);
    expect((await inPod("sidecar-demo/sleep", "curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", "http://bench-server:8080/")).stdout).toBe(
      "200",
    );
    expect((await ctl(["down"])).code).toBe(0);
    expect(existsSync(secrets)).toBe(false);
  }, 240_000);
});
