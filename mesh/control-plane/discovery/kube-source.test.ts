// Kubernetes discovery against an in-test API server: list, watch, resume from resourceVersion,
// relist on 410 Gone, and recovery after the API server was unreachable.
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/index.ts";
import { FakeApiServer } from "../../testing/index.ts";
import { ObjectStore } from "../store/object-store.ts";
import { KubeSource } from "./kube-source.ts";
import { eventually } from "../../testing/expect.ts";

const PODS = "/api/v1/pods";
const pod = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, namespace: "demo", labels },
  spec: { nodeName: "node-1", containers: [{ name: "c", image: "x" }] },
  status: { podIP: "10.0.0.1" },
});

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server, skipTLSVerify: true }],
    users: [{ name: "test" }],
    contexts: [{ name: "test", cluster: "test", user: "test" }],
    currentContext: "test",
  });
  return kc;
}

let api: FakeApiServer | undefined;
let source: KubeSource | undefined;
afterEach(async () => {
  await source?.close();
  await api?.close();
  source = api = undefined;
});

describe("Kubernetes discovery", () => {
  it("lists, then follows watch events into the store", async () => {
    api = new FakeApiServer();
    api.seed(PODS, pod("a"));
    api.seed(PODS, pod("b"));
    const store = new ObjectStore();
    source = new KubeSource({ kubeConfig: kubeConfig(await api.start()), store, log: silentLogger(), kinds: ["Pod"] });
    await source.start();
    expect(store.count("Pod")).toBe(2);
    expect(store.get("Pod", "demo/a")).toMatchObject({ apiVersion: "v1", kind: "Pod", spec: { nodeName: "node-1" } });
    await eventually(() => api!.watching(PODS) === 1);
    api.put(PODS, pod("c"));
    api.put(PODS, pod("a", { version: "v2" }));
    api.remove(PODS, "demo", "b");
    await eventually(() => store.count("Pod") === 2 && store.get("Pod", "demo/a")?.metadata?.labels?.version === "v2" && !store.get("Pod", "demo/b"));
  });

  it("resumes a closed watch from the last resourceVersion, and relists on 410 Gone", async () => {
    api = new FakeApiServer();
    api.seed(PODS, pod("a"));
    const store = new ObjectStore();
    source = new KubeSource({ kubeConfig: kubeConfig(await api.start()), store, log: silentLogger(), kinds: ["Pod"] });
    await source.start();
    await eventually(() => api!.watching(PODS) === 1);
    api.put(PODS, pod("b"));
    await eventually(() => store.count("Pod") === 2);
    // The informer tracks resourceVersions itself (the store does not keep them: projection.ts).
    const lastRv = api.get(PODS, "demo", "b")!.metadata.resourceVersion!;
    const lists = () => api!.requests.filter((r) => r.path === PODS && !r.watch).length;
    expect(lists()).toBe(1);
    api.endWatches(PODS);
    await eventually(() => api!.requests.filter((r) => r.watch).length === 2 && api!.watching(PODS) === 1);
    expect(api.requests.filter((r) => r.watch)[1]!.resourceVersion).toBe(lastRv);
    expect(lists()).toBe(1); // resumed, not relisted

    // While expired: "a" is deleted without an event; the relist must notice.
    api.remove(PODS, "demo", "a", false);
    api.expireNextWatch.add(PODS);
    api.endWatches(PODS);
    await eventually(() => lists() === 2, 8000);
    await eventually(() => store.count("Pod") === 1 && store.get("Pod", "demo/b") !== undefined);
  });

  it("backs off from a server that ends every watch at once, instead of reconnecting in a loop", async () => {
    api = new FakeApiServer();
    api.seed(PODS, pod("a"));
    api.dropWatches.add(PODS);
    const store = new ObjectStore();
    source = new KubeSource({ kubeConfig: kubeConfig(await api.start()), store, log: silentLogger(), kinds: ["Pod"] });
    await source.start();
    await new Promise((r) => setTimeout(r, 2000));
    // 500 ms, 1 s, ... between attempts: a handful in 2 s (without the backoff: hundreds).
    const watches = api.requests.filter((r) => r.watch).length;
    expect(watches).toBeGreaterThanOrEqual(2);
    expect(watches).toBeLessThanOrEqual(5);
    expect(store.count("Pod")).toBe(1);
  });

  it("keeps trying while the API server is unreachable and catches up when it is back", async () => {
    api = new FakeApiServer();
    const url = await api.start();
    await api.close();
    const store = new ObjectStore();
    source = new KubeSource({ kubeConfig: kubeConfig(url), store, log: silentLogger(), kinds: ["Pod"] });
    const started = source.start();
    await new Promise((r) => setTimeout(r, 700));
    // Same port again: a new server with one pod.
    const port = Number(new URL(url).port);
    const again = new FakeApiServer();
    again.seed(PODS, pod("late"));
    await again.start(port);
    api = again;
    await started;
    expect(store.get("Pod", "demo/late")).toBeDefined();
  });

  it("does not report status-only writes (our policy conditions, kubelet probes) as changes", async () => {
    const AP = "/apis/security.istio.io/v1/authorizationpolicies";
    api = new FakeApiServer();
    api.seed(AP, { metadata: { name: "p", namespace: "demo" }, spec: { action: "DENY" } } as never);
    const store = new ObjectStore();
    const changes: unknown[] = [];
    store.subscribe((kinds) => changes.push(kinds));
    const server = await api.start();
    source = new KubeSource({ kubeConfig: kubeConfig(server), store, log: silentLogger(), kinds: ["AuthorizationPolicy"] });
    await source.start();
    await eventually(() => api!.watching(AP) === 1);
    const before = changes.length;
    const { PolicyStatusWriter } = await import("../status-writer.ts");
    const t = { workloads: [], services: [], policies: [], routes: [], l7Policies: [], notes: [] };
    await new PolicyStatusWriter(kubeConfig(server), silentLogger()).update(t, ["demo/p"]);
    expect(api.patches).toHaveLength(1);
    // The MODIFIED event it caused has arrived (a later spec change is seen after it) and changed nothing.
    api.put(AP, { metadata: { name: "p", namespace: "demo" }, spec: { action: "ALLOW" } } as never);
    await eventually(() => (store.get("AuthorizationPolicy", "demo/p") as { spec?: { action?: string } } | undefined)?.spec?.action === "ALLOW");
    expect(changes.length - before).toBe(1);
  });
});
