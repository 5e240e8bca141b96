// The control plane in file mode, in-process: config stream (snapshot, delta, ACK/NACK, resync), the
// certificate service (issued chains, node authorization, error codes) and ztunnel's clients.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TYPE_ADDRESS, TYPE_AUTHORIZATION } from "../api/index.ts";
import { CertificateService } from "../api/index.ts";
import { AggregatedDiscoveryService, DeltaDiscoveryRequestSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from "../api/index.ts";
import { AsyncQueue } from "../shared/index.ts";
import { memoryLogger, silentLogger } from "../shared/index.ts";
import { createCsr, createRootCa, type CaMaterial } from "../shared/index.ts";
import { GrpcCaClient } from "../proxy/index.ts";
import { StateStore, type ProxyDelta } from "../proxy/index.ts";
import { WAYPOINT_TYPES, XdsClient } from "../proxy/index.ts";
import { configStream, controlPlaneEndpoint, controlPlaneTransport } from "../proxy/index.ts";
import { ControlPlane } from "./app.ts";
import { BootstrapTokenAuthenticator, identityTokenName } from "./auth/authenticator.ts";
import { BootstrapTokens } from "./auth/bootstrap-tokens.ts";
import { FileSource } from "./discovery/file-source.ts";
import { DEFAULT_TRANSLATE_OPTIONS } from "./translate/index.ts";
import { eventually } from "../testing/expect.ts";
import { sidecarOptionsFor } from "../manifests/index.ts";
import https from "node:https";

const dir = mkdtempSync(join(tmpdir(), "al-cp-"));
const configDir = join(dir, "config");
const rootFile = join(dir, "root-cert.pem");
const badTokenFile = join(dir, "bad.token");
let ca: CaMaterial;
let cp: ControlPlane;
let tokens: BootstrapTokens;
let collections = 0;

const base = `
apiVersion: v1
kind: Namespace
metadata: { name: demo, labels: { istio.io/dataplane-mode: ambient } }
---
apiVersion: v1
kind: Pod
metadata: { name: sleep, namespace: demo }
spec: { nodeName: node-1, serviceAccountName: sleep, containers: [{ name: c, image: x }] }
status: { podIP: 198.18.1.10 }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: demo, labels: { app: web } }
spec: { nodeName: node-2, serviceAccountName: web, containers: [{ name: c, image: x }] }
status: { podIP: 198.18.2.10 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { clusterIP: 198.19.0.10, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
`;
const deny = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-sleep, namespace: demo }
spec: { action: DENY, rules: [{ from: [{ source: { principals: ["cluster.local/ns/demo/sa/sleep"] } }] }] }
`;

function endpoint(node: string) {
  return {
    address: `https://127.0.0.1:${cp.addresses().grpc.port}`,
    rootCertFile: rootFile,
    expectedIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
    tokenFile: tokens.path(node),
  };
}

beforeAll(async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, "base.yaml"), base);
  ca = await createRootCa({ trustDomain: "cluster.local" });
  writeFileSync(rootFile, ca.rootPem);
  writeFileSync(badTokenFile, "not-a-real-token\n");
  tokens = new BootstrapTokens(join(dir, "tokens"));
  await tokens.ensure(["node-1", "node-2"]);
  cp = new ControlPlane({
    listen: { grpc: { ip: "127.0.0.1", port: 0 }, admin: { ip: "127.0.0.1", port: 0 } },
    translate: DEFAULT_TRANSLATE_OPTIONS,
    identity: { trustDomain: "cluster.local", namespace: "istio-system", serviceAccount: "istiod" },
    ca,
    auth: () => new BootstrapTokenAuthenticator((t) => tokens.lookup(t)),
    log: silentLogger(),
    debounceMs: 20,
    // Any whole-config send is a burst here: the test sees the collection asked for.
    afterBurst: { collect: () => collections++, thresholdBytes: 1, quietMs: 50, minIntervalMs: 0 },
    injection: {
      listen: { ip: "127.0.0.1", port: 0 },
      sidecar: sidecarOptionsFor({ namespace: "istio-system", trustDomain: "cluster.local", image: "proxy:dev", pullPolicy: "IfNotPresent" }),
      dnsNames: ["istiod.istio-system.svc"],
    },
    discovery: (store) => [new FileSource(configDir, store, silentLogger())],
  });
  await cp.start();
});

afterAll(async () => {
  await cp?.stop(100);
  rmSync(dir, { recursive: true, force: true });
});

/** A hand-driven stream, to see the protocol's messages. */
function rawStream(node: string) {
  const client = createClient(AggregatedDiscoveryService, controlPlaneTransport(endpoint(node)));
  const requests = new AsyncQueue<DeltaDiscoveryRequest>();
  const responses: DeltaDiscoveryResponse[] = [];
  const abort = new AbortController();
  const done = (async () => {
    for await (const r of client.deltaAggregatedResources(requests, { signal: abort.signal })) responses.push(r);
  })().catch((e: unknown) => e);
  return { requests, responses, done, close: () => abort.abort() };
}

describe("config stream", () => {
  it("sends a full snapshot, then only changes, and records ACKs and NACKs by nonce", async () => {
    const s = rawStream("node-1");
    s.requests.push(
      create(DeltaDiscoveryRequestSchema, { node: { id: "ztunnel~node-1", nodeName: "node-1" }, typeUrl: TYPE_ADDRESS, resourceNamesSubscribe: ["*"] }),
    );
    s.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_AUTHORIZATION, resourceNamesSubscribe: ["*"] }));
    await eventually(() => s.responses.length >= 2);
    const addr = s.responses.find((r) => r.typeUrl === TYPE_ADDRESS)!;
    expect(addr.resources.map((r) => r.name).sort()).toEqual(["Kubernetes//Pod/demo/sleep", "Kubernetes//Pod/demo/web", "demo/web.demo.svc.cluster.local"]);
    const pol = s.responses.find((r) => r.typeUrl === TYPE_AUTHORIZATION)!;
    expect(pol.resources).toEqual([]);
    s.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_ADDRESS, responseNonce: addr.nonce }));
    s.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_AUTHORIZATION, responseNonce: pol.nonce }));

    writeFileSync(join(configDir, "deny.yaml"), deny);
    await eventually(() => s.responses.length >= 3);
    const delta = s.responses[2]!;
    expect(delta.typeUrl).toBe(TYPE_AUTHORIZATION);
    expect(delta.resources.map((r) => r.name)).toEqual(["demo/deny-sleep"]);
    s.requests.push(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: TYPE_AUTHORIZATION,
        responseNonce: delta.nonce,
        errorDetail: { message: "1 rejected", resourceErrors: { "demo/deny-sleep": "test says no" } },
      }),
    );
    await eventually(() => JSON.stringify(cp.ads.describe()).includes("test says no"));
    const conn = cp.ads.describe().find((c) => c.node === "node-1")!;
    expect(conn).toMatchObject({
      types: { Address: { ackedVersion: 1 }, Authorization: { lastNack: { resourceErrors: { "demo/deny-sleep": "test says no" } } } },
    });

    rmSync(join(configDir, "deny.yaml"));
    await eventually(() => s.responses.length >= 4);
    expect(s.responses[3]!.removedResources).toEqual(["demo/deny-sleep"]);
    expect(s.responses[3]!.resources).toEqual([]);
    s.close();
  });

  it("asks for a major collection once whole-config sends are answered (or their stream is gone) and quiet, and counts it", async () => {
    // The tests above connected proxies that received whole configs and answered them.
    await vi.waitFor(() => expect(collections).toBeGreaterThan(0), { timeout: 5000 });
    const text = await cp.metrics.registry.metrics();
    expect(Number(/^ambientlab_burst_collections_total (\d+)$/m.exec(text)?.[1])).toBe(collections);

    const s = rawStream("node-1");
    s.requests.push(create(DeltaDiscoveryRequestSchema, { node: { nodeName: "node-1" }, typeUrl: TYPE_ADDRESS, resourceNamesSubscribe: ["*"] }));
    await eventually(() => s.responses.length >= 1);
    // Received but not answered: the proxy may still be reading it, so nothing is collected yet.
    const before = collections;
    await new Promise((r) => setTimeout(r, 300));
    expect(collections).toBe(before);
    s.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_ADDRESS, responseNonce: s.responses[0]!.nonce }));
    await vi.waitFor(() => expect(collections).toBe(before + 1), { timeout: 5000 });

    // A proxy that goes away without answering ends its part of the burst too.
    const gone = rawStream("node-1");
    gone.requests.push(create(DeltaDiscoveryRequestSchema, { node: { nodeName: "node-1" }, typeUrl: TYPE_ADDRESS, resourceNamesSubscribe: ["*"] }));
    await eventually(() => gone.responses.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(collections).toBe(before + 1);
    gone.close();
    await vi.waitFor(() => expect(collections).toBe(before + 2), { timeout: 5000 });
    s.close();
  });

  it("resyncs a reconnecting proxy with only what it lacks", async () => {
    const first = rawStream("node-2");
    first.requests.push(create(DeltaDiscoveryRequestSchema, { node: { nodeName: "node-2" }, typeUrl: TYPE_ADDRESS, resourceNamesSubscribe: ["*"] }));
    await eventually(() => first.responses.length >= 1);
    const held = Object.fromEntries(first.responses[0]!.resources.map((r) => [r.name, r.version]));
    first.close();
    held["Kubernetes//Pod/demo/gone"] = "0123";
    const webKey = "Kubernetes//Pod/demo/web";
    held[webKey] = "stale";
    const again = rawStream("node-2");
    again.requests.push(
      create(DeltaDiscoveryRequestSchema, {
        node: { nodeName: "node-2" },
        typeUrl: TYPE_ADDRESS,
        resourceNamesSubscribe: ["*"],
        initialResourceVersions: held,
      }),
    );
    await eventually(() => again.responses.length >= 1);
    expect(again.responses[0]!.resources.map((r) => r.name)).toEqual([webKey]);
    expect(again.responses[0]!.removedResources).toEqual(["Kubernetes//Pod/demo/gone"]);
    // After that resync the control plane counts the proxy as holding the snapshot itself: the next
    // change reaches it as just that change, and its removal as just that removal.
    again.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_ADDRESS, responseNonce: again.responses[0]!.nonce }));
    again.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_AUTHORIZATION, resourceNamesSubscribe: ["*"], initialResourceVersions: {} }));
    await eventually(() => again.responses.length >= 2);
    again.requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_AUTHORIZATION, responseNonce: again.responses[1]!.nonce }));
    const conn = cp.ads.describe().filter((c) => c.node === "node-2");
    expect(conn).toHaveLength(1);
    expect(conn[0]!.types).toMatchObject({ Address: { resources: first.responses[0]!.resources.length } });
    writeFileSync(join(configDir, "deny.yaml"), deny);
    await eventually(() => again.responses.length >= 3);
    expect([again.responses[2]!.typeUrl, again.responses[2]!.resources.map((r) => r.name)]).toEqual([TYPE_AUTHORIZATION, ["demo/deny-sleep"]]);
    rmSync(join(configDir, "deny.yaml"));
    await eventually(() => again.responses.length >= 4);
    expect([again.responses[3]!.removedResources, again.responses[3]!.resources]).toEqual([["demo/deny-sleep"], []]);
    again.close();
  });

  it("refuses a stream without a valid token, and a token used for another node", async () => {
    const bad = createClient(AggregatedDiscoveryService, controlPlaneTransport({ ...endpoint("node-1"), tokenFile: badTokenFile }));
    const q = new AsyncQueue<DeltaDiscoveryRequest>();
    q.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_ADDRESS }));
    const err = await (async () => {
      for await (const _ of bad.deltaAggregatedResources(q)) void _;
    })().catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Unauthenticated);
    const s = rawStream("node-1");
    s.requests.push(create(DeltaDiscoveryRequestSchema, { node: { nodeName: "node-2" }, typeUrl: TYPE_ADDRESS }));
    expect(ConnectError.from(await s.done).code).toBe(Code.PermissionDenied);
  });

  it("feeds ztunnel's store, and ztunnel keeps its config when the stream breaks", async () => {
    const store = new StateStore();
    const x = new XdsClient({
      stream: configStream(controlPlaneEndpoint(endpoint("node-1"))),
      node: "node-1",
      clusterId: "Kubernetes",
      store,
      log: silentLogger(),
    });
    const deltas: ProxyDelta[] = [];
    const applyDelta = store.applyDelta.bind(store);
    store.applyDelta = (d) => (deltas.push(d), applyDelta(d));
    x.start();
    await eventually(() => store.current.workloads.length === 2);
    expect(store.current.serviceByVip("198.19.0.10")?.hostname).toBe("web.demo.svc.cluster.local");
    writeFileSync(join(configDir, "deny.yaml"), deny);
    await eventually(() => store.current.policies.length === 1);
    rmSync(join(configDir, "deny.yaml"));
    await eventually(() => store.current.policies.length === 0);
    // After the first whole config, changes arrive as deltas: the policy added, then removed by its key.
    expect(deltas.map((d) => [d.policies?.upsert.map((p) => p.name), d.policies?.remove])).toEqual([
      [["deny-sleep"], []],
      [[], ["demo/deny-sleep"]],
    ]);
    expect(x.acks).toBeGreaterThanOrEqual(4);
    await x.close();
    expect(store.current.workloads.length).toBe(2);
  });

  it("streams HTTPRoutes and targetRefs policies to a waypoint (with its service-account token), never to ztunnel", async () => {
    const name = identityTokenName("demo", "waypoint");
    await tokens.ensure([name]);
    writeFileSync(
      join(configDir, "l7.yaml"),
      [
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: waypoint, namespace: demo }\nspec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web, namespace: demo }\nspec: { parentRefs: [{ kind: Service, name: web }], rules: [{ backendRefs: [{ name: web, port: 80 }] }] }",
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: l7, namespace: demo }\nspec: { targetRefs: [{ kind: Gateway, group: gateway.networking.k8s.io, name: waypoint }], action: DENY, rules: [{ to: [{ operation: { methods: [DELETE] } }] }] }",
      ].join("\n---\n"),
    );
    const wpStore = new StateStore();
    const ztStore = new StateStore();
    const spyStore = new StateStore();
    const spyLog = memoryLogger("warn");
    const wp = new XdsClient({
      stream: configStream(controlPlaneEndpoint({ ...endpoint("node-1"), tokenFile: tokens.path(name) })),
      node: "demo/waypoint",
      nodeId: "waypoint~demo/waypoint",
      types: WAYPOINT_TYPES,
      clusterId: "Kubernetes",
      store: wpStore,
      log: silentLogger(),
    });
    const zt = new XdsClient({
      stream: configStream(controlPlaneEndpoint(endpoint("node-1"))),
      node: "node-1",
      clusterId: "Kubernetes",
      store: ztStore,
      log: silentLogger(),
    });
    // A ztunnel's token asking for the waypoint types, as a compromised or misconfigured node proxy would.
    const spy = new XdsClient({
      stream: configStream(controlPlaneEndpoint(endpoint("node-2"))),
      node: "node-2",
      nodeId: "waypoint~demo/waypoint",
      types: WAYPOINT_TYPES,
      clusterId: "Kubernetes",
      store: spyStore,
      log: spyLog.logger,
    });
    try {
      await eventually(() => Boolean(cp.store.get("Gateway", "demo/waypoint")), 5000);
      wp.start();
      zt.start();
      spy.start();
      await eventually(() => wpStore.current.routes.length === 1 && wpStore.current.l7Policies.length === 1, 5000);
      expect(wpStore.current.routesFor("demo/web.demo.svc.cluster.local").map((r) => r.name)).toEqual(["web"]);
      await eventually(() => ztStore.current.workloads.length >= 2);
      // ztunnel does not subscribe to the waypoint types, and the targetRefs policy is not an L4 policy.
      expect(ztStore.current.routes).toEqual([]);
      expect(ztStore.current.policies).toEqual([]);
      // The one that asks is refused by the control plane, and gets nothing.
      await eventually(() => spyLog.records.some((r) => String(r.err ?? "").includes("may not receive")), 5000);
      expect(spyStore.current.routes).toEqual([]);
      expect(spyStore.current.l7Policies).toEqual([]);
    } finally {
      rmSync(join(configDir, "l7.yaml"), { force: true });
      await wp.close();
      await zt.close();
      await spy.close();
    }
  });
});

describe("certificate service", () => {
  const caClient = (node: string) => new GrpcCaClient(controlPlaneTransport(endpoint(node)), rootFile);

  it("signs for an identity on the caller's node; openssl verifies the chain and the SAN is right", async () => {
    const id = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };
    const { csrPem } = await createCsr(id);
    const chain = await caClient("node-1").sign({ csrPem, identity: id, ttlSeconds: 3600 });
    expect(chain).toHaveLength(2);
    writeFileSync(join(dir, "leaf.pem"), chain[0]!);
    expect(execFileSync("openssl", ["verify", "-CAfile", rootFile, join(dir, "leaf.pem")]).toString()).toContain("OK");
    const leaf = new X509Certificate(chain[0]!);
    expect(leaf.subjectAltName).toBe("URI:spiffe://cluster.local/ns/demo/sa/sleep");
    expect(new Date(leaf.validTo).getTime() - Date.now()).toBeLessThan(3600_000 + 5000);
  });

  it("refuses identities not on the caller's node, malformed CSRs and bad tokens with the right codes", async () => {
    const web = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "web" };
    const { csrPem } = await createCsr(web);
    const denied = await caClient("node-1")
      .sign({ csrPem, identity: web, ttlSeconds: 60 })
      .catch((e: unknown) => ConnectError.from(e));
    expect(denied).toMatchObject({ code: Code.PermissionDenied });
    expect(String((denied as ConnectError).rawMessage)).toContain("no workload with identity spiffe://cluster.local/ns/demo/sa/web runs on node node-1");
    const raw = createClient(CertificateService, controlPlaneTransport(endpoint("node-1")));
    expect(ConnectError.from(await raw.createCertificate({ csr: "garbage" }).catch((e: unknown) => e)).code).toBe(Code.InvalidArgument);
    const other = await createCsr({ trustDomain: "evil.local", namespace: "demo", serviceAccount: "sleep" });
    expect(ConnectError.from(await raw.createCertificate({ csr: other.csrPem }).catch((e: unknown) => e)).code).toBe(Code.PermissionDenied);
    const anon = createClient(CertificateService, controlPlaneTransport({ ...endpoint("node-1"), tokenFile: badTokenFile }));
    expect(ConnectError.from(await anon.createCertificate({ csr: csrPem }).catch((e: unknown) => e)).code).toBe(Code.Unauthenticated);
    const metrics = await cp.metrics.registry.metrics();
    expect(metrics).toMatch(/citadel_server_csr_refused_total\{reason="node_authorization"\} 1/);
  });

  it("a service account's token (a waypoint) gets its own identity and nothing else", async () => {
    const name = identityTokenName("demo", "waypoint");
    await tokens.ensure([name]);
    const client = new GrpcCaClient(controlPlaneTransport({ ...endpoint("node-1"), tokenFile: tokens.path(name) }), rootFile);
    const own = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "waypoint" };
    expect(await client.sign({ csrPem: (await createCsr(own)).csrPem, identity: own, ttlSeconds: 60 })).toHaveLength(2);
    const sleep = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };
    const denied = await client.sign({ csrPem: (await createCsr(sleep)).csrPem, identity: sleep, ttlSeconds: 60 }).catch((e: unknown) => ConnectError.from(e));
    expect(denied).toMatchObject({ code: Code.PermissionDenied });
    expect((denied as ConnectError).rawMessage).toContain("may only request its own identity");
  });

  it("answers the Connect protocol too (JSON, as curl sends it), beside gRPC's direct path", async () => {
    const { default: http2 } = await import("node:http2");
    const session = http2.connect(`https://127.0.0.1:${cp.addresses().grpc.port}`, { rejectUnauthorized: false });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/ambientlab.v1.CertificateService/CreateCertificate",
          "content-type": "application/json",
          authorization: "Bearer not-a-token",
        });
        let out = "";
        req.setEncoding("utf8");
        req.on("data", (d: string) => (out += d));
        req.on("end", () => resolve(out));
        req.on("error", reject);
        req.end("{}");
      });
      expect(JSON.parse(body)).toMatchObject({ code: "unauthenticated" });
    } finally {
      session.close();
    }
  });

  it("drops garbage on the gRPC port and keeps serving", async () => {
    const a = cp.addresses().grpc;
    await new Promise<void>((resolve) => {
      const s = net.connect(a.port, a.ip, () => s.end("GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01\x02"));
      s.on("error", () => resolve());
      s.on("close", () => resolve());
    });
    const id = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };
    const { csrPem } = await createCsr(id);
    expect(await caClient("node-1").sign({ csrPem, identity: id, ttlSeconds: 60 })).toHaveLength(2);
  });
});

describe("sidecar injection webhook", () => {
  it("serves AdmissionReviews with the mesh CA's certificate for the Service name, counts them, and drains with the control plane", async () => {
    const at = cp.addresses().webhook!;
    const review = (labels: Record<string, string>) =>
      JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
          uid: "u",
          kind: { group: "", version: "v1", kind: "Pod" },
          namespace: "demo",
          operation: "CREATE",
          object: { metadata: { name: "p", namespace: "demo", labels }, spec: { containers: [{ name: "a", image: "b" }] } },
        },
      });
    const post = (body: string) =>
      new Promise<{ response: { patch?: string } }>((resolve, reject) => {
        const req = https.request(
          {
            host: at.ip,
            port: at.port,
            method: "POST",
            path: "/inject",
            ca: ca.rootPem,
            servername: "istiod.istio-system.svc",
            headers: { "content-type": "application/json" },
          },
          (res) => {
            let t = "";
            res.on("data", (c: Buffer) => (t += c.toString()));
            res.on("end", () => resolve(JSON.parse(t) as { response: { patch?: string } }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    expect((await post(review({ "sidecar.istio.io/inject": "true" }))).response.patch).toBeDefined();
    expect((await post(review({}))).response.patch).toBeUndefined();
    const text = await cp.metrics.registry.metrics();
    expect(text).toMatch(/^sidecar_injection_requests_total 2$/m);
    expect(text).toMatch(/^sidecar_injection_success_total 1$/m);
    expect(text).toMatch(/^sidecar_injection_skip_total 1$/m);
  });
});
