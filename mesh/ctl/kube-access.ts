// What ambientctl needs from a Kubernetes cluster, and its implementation over the kubeconfig with
// @kubernetes/client-node: list namespaces and pods, run a command in a container (exec), GET an HTTP
// path on a pod's port (port-forward, so endpoints bound to the pod's localhost work, like ztunnel's
// admin), and create or delete custom objects. Everything a peer sends back is bounded.
import { existsSync } from "node:fs";
import net from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { CoreV1Api, CustomObjectsApi, Exec, KubeConfig, PortForward, type V1Pod, type V1Status } from "@kubernetes/client-node";
import { ErrorCode, MeshError } from "../shared/index.ts";

export interface NamespaceRef {
  name: string;
  labels: Record<string, string>;
}

export interface PodRef {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** App containers and native sidecars, by name. */
  containers: string[];
  ready: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CustomRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

export interface KubeAccess {
  /** Where the API server is, for messages. */
  readonly server: string;
  namespaces(labelSelector?: string): Promise<NamespaceRef[]>;
  pods(namespace: string, labelSelector: string): Promise<PodRef[]>;
  exec(pod: PodRef, container: string, command: string[], timeoutMs: number): Promise<ExecResult>;
  /** GET http://localhost:<port><path> inside the pod; the body, or an error naming what failed. */
  httpGet(pod: PodRef, port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }>;
  createCustom(ref: CustomRef, body: object): Promise<void>;
  /** Deletes the object; one already gone is not an error. */
  deleteCustom(ref: CustomRef): Promise<void>;
}

/** Output kept per stream and body size read, so a misbehaving pod cannot exhaust the CLI. */
const MAX_OUTPUT = 1 << 20;
const MAX_BODY = 32 << 20;

/** Loads the kubeconfig as kubectl does (--kubeconfig, then KUBECONFIG, then ~/.kube/config), with --context. */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv; home?: string } = {}): KubeConfig {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  const file = opts.kubeconfig ?? (env.KUBECONFIG ? undefined : join(opts.home ?? homedir(), ".kube", "config"));
  try {
    if (opts.kubeconfig || !env.KUBECONFIG) {
      if (!existsSync(file!)) {
        throw new MeshError(
          ErrorCode.Kube,
          `no kubeconfig at ${file}: pass --kubeconfig F or set KUBECONFIG (a kind cluster: kind export kubeconfig --name ambient-lab)`,
        );
      }
      kc.loadFromFile(file!);
    } else {
      kc.loadFromDefault();
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw new MeshError(ErrorCode.Kube, `cannot read the kubeconfig ${file ?? env.KUBECONFIG}: ${(err as Error).message}`);
  }
  if (opts.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(opts.context))
      throw new MeshError(ErrorCode.Kube, `no context "${opts.context}" in the kubeconfig; contexts: ${names.join(", ") || "(none)"}`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster())
    throw new MeshError(ErrorCode.Kube, "the kubeconfig has no current cluster: choose one with --context or kubectl config use-context");
  return kc;
}

/** The network error code anywhere in a cause chain (fetch wraps it: "fetch failed" <- ECONNREFUSED). */
function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
  }
  return undefined;
}

function apiError(what: string, server: string, err: unknown): MeshError {
  const e = err as { code?: number | string; body?: unknown; message?: string };
  const net = networkCode(err);
  if (net === "ECONNREFUSED" || net === "ENOTFOUND" || net === "EHOSTUNREACH" || net === "ETIMEDOUT") {
    return new MeshError(ErrorCode.Kube, `${what}: cannot reach the API server at ${server}; is the cluster running (kubectl cluster-info)?`, { cause: err });
  }
  if (e.code === 401 || e.code === 403)
    return new MeshError(ErrorCode.Kube, `${what}: the API server refused our credentials (HTTP ${e.code}); check the kubeconfig's user and RBAC`, {
      cause: err,
    });
  let detail = e.message ?? String(err);
  if (typeof e.body === "string") {
    try {
      detail = (JSON.parse(e.body) as { message?: string }).message ?? detail;
    } catch {
      // keep the client's message
    }
  }
  return new MeshError(ErrorCode.Kube, `${what}: ${detail.slice(0, 500)}`, { cause: err });
}

/** Collects up to `max` bytes; the rest is counted, not kept. */
class Bounded extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  private readonly max: number;
  constructor(max = MAX_OUTPUT) {
    super();
    this.max = max;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    const room = this.max - this.kept;
    if (room > 0) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept += Math.min(room, chunk.length);
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8") + (this.dropped ? `\n[${this.dropped} more bytes not kept]` : "");
  }
}

/** An exec status (channel 3) as an exit code: 0 on Success, the ExitCode cause otherwise. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  const code = Number(cause?.message);
  if (status.reason === "NonZeroExitCode" && Number.isInteger(code)) return code;
  throw new MeshError(ErrorCode.Kube, `exec failed: ${status.message ?? status.reason ?? "no reason given"}`);
}

function podRef(p: V1Pod): PodRef {
  const sidecars = (p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name);
  return {
    namespace: p.metadata?.namespace ?? "",
    name: p.metadata?.name ?? "",
    node: p.spec?.nodeName ?? "",
    labels: p.metadata?.labels ?? {},
    serviceAccount: p.spec?.serviceAccountName ?? "default",
    containers: [...(p.spec?.containers ?? []).map((c) => c.name), ...sidecars],
    ready: p.status?.phase === "Running" && (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  };
}

export function clientNodeAccess(kc: KubeConfig): KubeAccess {
  const server = kc.getCurrentCluster()?.server ?? "(none)";
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const execer = new Exec(kc);
  const forwarder = new PortForward(kc);

  return {
    server,
    async namespaces(labelSelector) {
      try {
        const list = await core.listNamespace(labelSelector ? { labelSelector } : {});
        return list.items.map((n) => ({ name: n.metadata?.name ?? "", labels: n.metadata?.labels ?? {} }));
      } catch (err) {
        throw apiError("listing namespaces", server, err);
      }
    },

    async pods(namespace, labelSelector) {
      try {
        return (await core.listNamespacedPod({ namespace, labelSelector })).items.map(podRef);
      } catch (err) {
        throw apiError(`listing pods in ${namespace} (${labelSelector})`, server, err);
      }
    },

    async exec(pod, container, command, timeoutMs) {
      const stdout = new Bounded();
      const stderr = new Bounded();
      let status: V1Status | undefined;
      let ws: Awaited<ReturnType<Exec["exec"]>>;
      try {
        ws = await execer.exec(pod.namespace, pod.name, container, command, stdout, stderr, null, false, (s) => (status = s));
      } catch (err) {
        throw apiError(`exec in ${pod.namespace}/${pod.name} (${container})`, server, err);
      }
      const ended = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        ws.on("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!ended) {
        ws.terminate();
        return { code: 124, stdout: stdout.text(), stderr: `${stderr.text()}[ambientctl: no answer from exec within ${timeoutMs} ms]` };
      }
      if (!status) throw new MeshError(ErrorCode.Kube, `exec in ${pod.namespace}/${pod.name} ended without an exit status`);
      return { code: exitCodeOf(status), stdout: stdout.text(), stderr: stderr.text() };
    },

    async httpGet(pod, port, path, timeoutMs) {
      // Port-forward one connection through a listener on 127.0.0.1:0 that only this request uses.
      const errors = new Bounded(4096);
      const sockets = new Set<net.Socket>();
      const listener = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => undefined);
        forwarder.portForward(pod.namespace, pod.name, [port], socket, errors, socket).then(
          (ws) => {
            const w = ws as unknown as { on(e: string, f: () => void): void; close(): void };
            w.on("close", () => socket.end());
            socket.on("close", () => w.close());
          },
          (err: unknown) => {
            errors.write(Buffer.from(String((err as Error).message ?? err)));
            socket.destroy();
          },
        );
      });
      await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
      const local = (listener.address() as net.AddressInfo).port;
      try {
        const res = await fetch(`http://127.0.0.1:${local}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
        const reader = res.body?.getReader();
        const chunks: Uint8Array[] = [];
        let size = 0;
        for (;;) {
          const r = await reader!.read();
          if (r.done) break;
          size += r.value.length;
          if (size > MAX_BODY) {
            await reader!.cancel();
            throw new MeshError(ErrorCode.Kube, `${pod.namespace}/${pod.name}:${port}${path} answered more than ${MAX_BODY} bytes`);
          }
          chunks.push(r.value);
        }
        return { status: res.status, body: Buffer.concat(chunks).toString("utf8") };
      } catch (err) {
        if (err instanceof MeshError) throw err;
        const why = errors.text().trim() || (err as Error).message;
        throw new MeshError(ErrorCode.Kube, `GET ${path} on ${pod.namespace}/${pod.name} port ${port} (port-forward through ${server}) failed: ${why}`, {
          cause: err,
        });
      } finally {
        for (const s of sockets) s.destroy();
        listener.close();
      }
    },

    async createCustom(ref, body) {
      try {
        await custom.createNamespacedCustomObject({ group: ref.group, version: ref.version, namespace: ref.namespace, plural: ref.plural, body });
      } catch (err) {
        throw apiError(`creating ${ref.plural}/${ref.name} in ${ref.namespace}`, server, err);
      }
    },

    async deleteCustom(ref) {
      try {
        await custom.deleteNamespacedCustomObject({ group: ref.group, version: ref.version, namespace: ref.namespace, plural: ref.plural, name: ref.name });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return;
        throw apiError(`deleting ${ref.plural}/${ref.name} in ${ref.namespace}`, server, err);
      }
    },
  };
}
