// A local cluster seen through the Kubernetes API, for testing ambientctl's cluster commands against
// real proxies: the in-test API server lists the cluster's namespaces and pods (ztunnels as the
// DaemonSet's pods in istio-system), runs exec in the pod's network namespace as the pod's user, opens
// port-forwards inside the pod's (or, for a hostNetwork ztunnel, the node's) namespace the way the
// kubelet's nsenter+socat did, and turns AuthorizationPolicy writes into the control plane's input.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Duplex } from "node:stream";
import { stringify } from "yaml";
import type { LocalCluster } from "../local/index.ts";
import { FakeApiServer, type FakeObject } from "./fake-apiserver.ts";

const ISTIO_NS = "istio-system";
const SIDECAR_LABEL = "ambient-lab.io/proxy";
// Connects to 127.0.0.1:<port> in the namespace it runs in and relays stdio: the kubelet's socat.
const RELAY = `const s=require("net").connect(Number(process.argv[1]),"127.0.0.1");process.stdin.pipe(s);s.pipe(process.stdout);s.on("error",(e)=>{process.stderr.write(e.message);process.exit(1)});s.on("close",()=>process.exit(0));`;

export class ClusterApi {
  readonly api: FakeApiServer;
  private readonly cluster: LocalCluster;
  private readonly relays = new Set<ChildProcess>();
  url = "";

  constructor(cluster: LocalCluster) {
    this.cluster = cluster;
    this.api = new FakeApiServer({
      streams: {
        exec: (ns, pod, container, command) => this.exec(ns, pod, container, command),
        portForward: (ns, pod, port) => this.forward(ns, pod, port),
      },
    });
    this.api.onWrite = (e) => this.written(e.method, e.path, e.object);
  }

  async start(): Promise<string> {
    this.url = await this.api.start();
    this.seed();
    return this.url;
  }

  /** A kubeconfig for this API server (plain HTTP, a token as kind's admin would have a cert). */
  writeKubeconfig(path: string): void {
    writeFileSync(
      path,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        // Plain HTTP, which client-node accepts only with TLS verification off (as the other kube tests).
        clusters: [{ name: "local", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
        users: [{ name: "admin", user: { token: "test-admin" } }],
        contexts: [{ name: "local", context: { cluster: "local", user: "admin" } }],
        "current-context": "local",
      }),
    );
  }

  private seed(): void {
    const spec = this.cluster.spec;
    const namespaces = new Set(spec.pods.map((p) => p.namespace));
    this.api.seed("/api/v1/namespaces", { metadata: { name: ISTIO_NS, labels: {} } });
    for (const ns of namespaces) {
      const ambient = spec.pods.some((p) => p.namespace === ns && p.ambient);
      this.api.seed("/api/v1/namespaces", {
        metadata: { name: ns, labels: { "app.kubernetes.io/part-of": "ambient-lab", ...(ambient ? { "istio.io/dataplane-mode": "ambient" } : {}) } },
      });
    }
    const running = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
    for (const p of spec.pods) {
      const planned = this.cluster.pod(`${p.namespace}/${p.name}`);
      this.api.seed(`/api/v1/namespaces/${p.namespace}/pods`, {
        metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name, ...(p.sidecar ? { [SIDECAR_LABEL]: "sidecar" } : {}) } },
        spec: {
          nodeName: planned.node,
          serviceAccountName: p.serviceAccount,
          containers: [{ name: p.name }],
          ...(p.sidecar ? { initContainers: [{ name: "ambient-lab-proxy", restartPolicy: "Always" }] } : {}),
        },
        status: { ...running, podIP: planned.ip },
      });
    }
    for (const node of spec.nodes) {
      this.api.seed(`/api/v1/namespaces/${ISTIO_NS}/pods`, {
        metadata: { name: `ztunnel-${node}`, namespace: ISTIO_NS, labels: { app: "ztunnel" } },
        spec: { nodeName: node, serviceAccountName: "ztunnel", hostNetwork: true, containers: [{ name: "ztunnel" }] },
        status: { ...running, podIP: this.cluster.node(node).ip },
      });
    }
  }

  private async exec(ns: string, pod: string, container: string, command: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    if (container !== pod) throw new Error(`container ${container} is not valid for pod ${pod}`);
    const r = await this.cluster.exec(`${ns}/${pod}`, command[0]!, command.slice(1), { timeoutMs: 20_000 });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  private async forward(ns: string, pod: string, port: number): Promise<Duplex> {
    const node = ns === ISTIO_NS ? /^ztunnel-(.+)$/.exec(pod)?.[1] : undefined;
    const netns = node ? this.cluster.node(node).netns : this.cluster.pod(`${ns}/${pod}`).netns;
    const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", RELAY, String(port)], { stdio: ["pipe", "pipe", "pipe"] });
    this.relays.add(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const conn = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
    child.on("exit", (code) => {
      this.relays.delete(child);
      if (code) conn.destroy(new Error(stderr.trim() || `relay exited ${code}`));
    });
    return conn;
  }

  private async written(method: string, path: string, obj: FakeObject): Promise<void> {
    if (!path.includes("/authorizationpolicies")) return;
    const name = `api-${obj.metadata.namespace}-${obj.metadata.name}`;
    await this.cluster.applyManifest(
      name,
      method === "DELETE" ? null : stringify({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: obj.metadata, spec: obj.spec }),
    );
  }

  /** Relays still running (each port-forward ends its own). */
  get openRelays(): number {
    return this.relays.size;
  }

  async close(): Promise<void> {
    for (const c of this.relays) if (c.pid) process.kill(c.pid, "SIGKILL");
    await this.api.close();
  }
}
