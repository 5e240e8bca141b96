// Each side pipeline of the control plane alone: fed by a real ObjectStore, its effect injected, and
// stopped cleanly (no reaction after stop, stop waits for work in flight).
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/index.ts";
import type { AuthorizationPolicy, Gateway, V1Namespace as Namespace, V1Pod as Pod } from "../model/kube.ts";
import { ObjectStore } from "../store/object-store.ts";
import { bootstrapTokenNames, BootstrapTokenKeeper } from "./bootstrap-token-keeper.ts";
import { RootCertPublisher, trustBundleNamespaces } from "./root-cert-publisher.ts";
import { WaypointSync } from "./waypoint-sync.ts";
import { PolicyStatusRunner } from "./policy-status.ts";
import { eventually } from "../../testing/expect.ts";

const log = silentLogger();
const ns = (name: string, labels: Record<string, string> = {}): Namespace => ({ metadata: { name, labels } });
const pod = (namespace: string, name: string, extra: { labels?: Record<string, string>; node?: string; sa?: string } = {}): Pod => ({
  metadata: { namespace, name, labels: extra.labels ?? {} },
  spec: { nodeName: extra.node ?? "node-1", serviceAccountName: extra.sa ?? name, containers: [] },
  status: { podIP: "198.18.1.2", phase: "Running" },
});
const waypoint = (namespace: string, name = "waypoint"): Gateway => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { namespace, name },
  spec: { gatewayClassName: "istio-waypoint", listeners: [] },
});
const policy = (name: string, spec: AuthorizationPolicy["spec"]): AuthorizationPolicy => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { namespace: "n", name },
  spec,
});

describe("trust bundle namespaces", () => {
  it("enrolled, labelled, with a waypoint or sidecar pods, and our own; sorted, once each", () => {
    const store = new ObjectStore();
    store.replace({
      Namespace: [ns("amb", { "istio.io/dataplane-mode": "ambient" }), ns("plain"), ns("side"), ns("wp")],
      Pod: [pod("amb", "a"), pod("plain", "p"), pod("side", "s", { labels: { "ambient-lab.io/proxy": "sidecar" } })],
      Gateway: [waypoint("wp")],
    });
    expect(trustBundleNamespaces(store.snapshot(), "istio-system")).toEqual(["amb", "istio-system", "side", "wp"]);
  });

  it("publishes once per change of the set, debounced, and nothing after stop", async () => {
    const store = new ObjectStore();
    const published: string[][] = [];
    const runner = new RootCertPublisher({ store, ownNamespace: "istio-system", publish: async (n) => void published.push(n), log, debounceMs: 10 });
    runner.start();
    await eventually(() => published.length === 1);
    store.replace({ Namespace: [ns("amb", { "istio.io/dataplane-mode": "ambient" })] });
    store.upsert("Pod", pod("amb", "x"));
    store.upsert("Pod", pod("amb", "y")); // same set: no second publish for it
    await eventually(() => published.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(published).toEqual([["istio-system"], ["amb", "istio-system"]]);
    await runner.stop();
    store.replace({ Namespace: [ns("amb", { "istio.io/dataplane-mode": "ambient" }), ns("more", { "istio.io/dataplane-mode": "ambient" })] });
    await new Promise((r) => setTimeout(r, 50));
    expect(published).toHaveLength(2);
  });
});

describe("waypoint sync", () => {
  it("syncs at start and on Gateway changes only, one at a time; stop waits for the sync in flight", async () => {
    const store = new ObjectStore();
    const seen: string[][] = [];
    let running = 0;
    let overlapped = false;
    const sync = async (gateways: readonly Gateway[]) => {
      running++;
      if (running > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 20));
      seen.push(gateways.map((g) => `${g.metadata?.namespace}/${g.metadata?.name}`));
      running--;
    };
    const runner = new WaypointSync({ store, sync, log });
    runner.start();
    await eventually(() => seen.length === 1);
    store.upsert("Gateway", waypoint("a"));
    await eventually(() => seen.length === 2);
    store.upsert("Pod", pod("a", "p")); // not a Gateway change
    store.upsert("Gateway", waypoint("b"));
    store.upsert("Gateway", waypoint("c")); // queued behind b's sync, never beside it
    await runner.stop();
    expect(seen).toEqual([[], ["a/waypoint"], ["a/waypoint", "b/waypoint", "c/waypoint"], ["a/waypoint", "b/waypoint", "c/waypoint"]]);
    expect(overlapped).toBe(false);
    store.upsert("Gateway", waypoint("d"));
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toHaveLength(4);
  });

  it("a failing sync is logged and the next one still runs", async () => {
    const store = new ObjectStore();
    let calls = 0;
    const runner = new WaypointSync({
      store,
      sync: async () => {
        calls++;
        if (calls === 1) throw new Error("API server unavailable");
      },
      log,
    });
    runner.start();
    store.upsert("Gateway", waypoint("a"));
    await runner.stop();
    expect(calls).toBe(2);
  });
});

describe("policy status", () => {
  it("writes after each translation of the policies with every policy and the waypoint-attached ones, until stopped", async () => {
    const store = new ObjectStore();
    store.replace({
      AuthorizationPolicy: [policy("l4", {}), policy("l7", { targetRefs: [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "waypoint" }] })],
    });
    let emit: ((s: { translation: never }) => void) | undefined;
    let unsubscribed = false;
    const builder = {
      subscribe: (l: (s: never) => void) => {
        emit = l as typeof emit;
        return () => void (unsubscribed = true);
      },
    };
    const writes: Array<{ keys: string[]; waypoint: string[] }> = [];
    const runner = new PolicyStatusRunner({
      store,
      builder: builder as never,
      update: async (_t, keys, wk) => void writes.push({ keys, waypoint: [...wk] }),
      log,
    });
    runner.start();
    const podNote = { kind: "Pod", namespace: "n", name: "p", status: "Ignored", reason: "not scheduled" };
    const first = { policies: [], l7Policies: [], workloads: [], notes: [] };
    emit!({ translation: first as never });
    // Pods alone changed (same policy arrays, only pod notes differ): nothing to write.
    emit!({ translation: { ...first, workloads: [{}], notes: [podNote] } as never });
    // A new translation of the policies: written again.
    emit!({ translation: { ...first, policies: [] } as never });
    await runner.stop();
    expect(writes).toEqual([
      { keys: ["n/l4", "n/l7"], waypoint: ["n/l7"] },
      { keys: ["n/l4", "n/l7"], waypoint: ["n/l7"] },
    ]);
    expect(unsubscribed).toBe(true);
  });
});

describe("bootstrap tokens", () => {
  it("names nodes, waypoints and sidecar service accounts; ensures them on changes and stops rotating on stop", async () => {
    const store = new ObjectStore();
    store.replace({
      Pod: [pod("n", "a", { node: "node-2" }), pod("n", "s", { labels: { "ambient-lab.io/proxy": "sidecar" }, sa: "legacy" })],
      Gateway: [waypoint("w")],
    });
    const names = bootstrapTokenNames(store.snapshot());
    expect(names).toContain("node-1");
    expect(names).toContain("node-2");
    expect(names.length).toBe(4);
    const ensured: string[][] = [];
    let rotations = 0;
    const keeper = new BootstrapTokenKeeper({
      store,
      tokens: { ensure: async (n) => void ensured.push([...n]), rotate: async () => void rotations++, rotationCheckMs: 5 },
      log,
    });
    keeper.start();
    await eventually(() => ensured.length === 1);
    store.upsert("Pod", pod("n", "b", { node: "node-3" }));
    await eventually(() => rotations > 1);
    await keeper.stop();
    expect(ensured[0]).toEqual(names);
    expect(ensured.at(-1)).toContain("node-3");
    const after = rotations;
    await new Promise((r) => setTimeout(r, 30));
    expect(rotations).toBe(after);
  });
});

describe("the control plane owns its runners", () => {
  it("starts them once it serves and stops them (waiting for their work) before it closes", async () => {
    const { ControlPlane } = await import("../app.ts");
    const { BootstrapTokenAuthenticator } = await import("../auth/authenticator.ts");
    const { DEFAULT_TRANSLATE_OPTIONS } = await import("../translate/index.ts");
    const { createRootCa } = await import("../../shared/index.ts");
    const events: string[] = [];
    const cp = new ControlPlane({
      listen: { grpc: { ip: "127.0.0.1", port: 0 }, admin: { ip: "127.0.0.1", port: 0 } },
      translate: DEFAULT_TRANSLATE_OPTIONS,
      identity: { trustDomain: "cluster.local", namespace: "istio-system", serviceAccount: "istiod" },
      ca: await createRootCa({ trustDomain: "cluster.local" }),
      // The authenticator is built with the store it may read (a pod's node), not through a back-reference.
      auth: (store) => {
        events.push(`auth sees a store: ${store.count("Pod") === 0}`);
        return new BootstrapTokenAuthenticator(() => undefined);
      },
      log,
      discovery: () => [],
      runners: (c) => [
        {
          name: "probe",
          start: () => void events.push(`start (serving: ${c.readiness.ready})`),
          stop: async () => {
            await new Promise((r) => setTimeout(r, 20));
            events.push(`stop (still serving: ${c.addresses().grpc.port > 0})`);
          },
        },
      ],
    });
    await cp.start();
    await cp.stop(100);
    expect(events).toEqual(["auth sees a store: true", "start (serving: true)", "stop (still serving: true)"]);
  });
});
