// Kubernetes mode against an in-test API server: the CA in Secrets (created once, plugged-in wins),
// TokenReview authentication with node binding, and the published trust bundle.
import { KubeConfig } from "@kubernetes/client-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../shared/index.ts";
import { createRootCa } from "../shared/index.ts";
import { FakeApiServer } from "../testing/index.ts";
import { TokenReviewAuthenticator } from "./auth/token-review.ts";
import { loadOrCreateKubeCa, publishRootCert } from "./ca/kube-ca.ts";

const SECRETS = "/api/v1/namespaces/istio-system/secrets";
let api: FakeApiServer | undefined;
let serverUrl = "";
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(): Promise<KubeConfig> {
  api = new FakeApiServer();
  const server = await api.start();
  serverUrl = server;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "t", server, skipTLSVerify: true }],
    users: [{ name: "t" }],
    contexts: [{ name: "t", cluster: "t", user: "t" }],
    currentContext: "t",
  });
  return kc;
}

describe("Kubernetes mode", () => {
  it("creates the root CA Secret once and reuses it", async () => {
    const kc = await setup();
    const first = await loadOrCreateKubeCa({ kubeConfig: kc, namespace: "istio-system", trustDomain: "cluster.local", log: silentLogger() });
    expect(api!.get(SECRETS, "istio-system", "istio-ca-secret")).toBeDefined();
    const second = await loadOrCreateKubeCa({ kubeConfig: kc, namespace: "istio-system", trustDomain: "cluster.local", log: silentLogger() });
    expect(second.rootPem).toBe(first.rootPem);
    expect(second.keyPem).toBe(first.keyPem);
  });

  it("prefers a plugged-in CA in the cacerts Secret", async () => {
    const kc = await setup();
    const plugged = await createRootCa({ trustDomain: "cluster.local" });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    api!.seed(SECRETS, {
      metadata: { name: "cacerts", namespace: "istio-system" },
      data: {
        "ca-cert.pem": b64(plugged.certPem),
        "ca-key.pem": b64(plugged.keyPem),
        "root-cert.pem": b64(plugged.rootPem),
        "cert-chain.pem": b64(plugged.certPem),
      },
    });
    const ca = await loadOrCreateKubeCa({ kubeConfig: kc, namespace: "istio-system", trustDomain: "cluster.local", log: silentLogger() });
    expect(ca.rootPem).toBe(plugged.rootPem);
    expect(api!.get(SECRETS, "istio-system", "istio-ca-secret")).toBeUndefined();
  });

  it("accepts cert-manager's Secret layout (tls.crt, tls.key, ca.crt) for a plugged-in CA", async () => {
    const kc = await setup();
    const plugged = await createRootCa({ trustDomain: "cluster.local" });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    api!.seed(SECRETS, {
      metadata: { name: "cacerts", namespace: "istio-system" },
      type: "kubernetes.io/tls",
      data: { "tls.crt": b64(plugged.certPem), "tls.key": b64(plugged.keyPem), "ca.crt": b64(plugged.rootPem) },
    });
    const ca = await loadOrCreateKubeCa({ kubeConfig: kc, namespace: "istio-system", trustDomain: "cluster.local", log: silentLogger() });
    expect(ca.rootPem).toBe(plugged.rootPem);
    const { createCsr, signWorkloadCert } = await import("../shared/index.ts");
    const id = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "web" };
    const issued = await signWorkloadCert({ ca, csrPem: (await createCsr(id)).csrPem, identity: id, ttlSeconds: 60 });
    const { X509Certificate } = await import("node:crypto");
    expect(new X509Certificate(issued.chainPem[0]!).verify(new X509Certificate(plugged.rootPem).publicKey)).toBe(true);
  });

  it("authenticates with TokenReview: ztunnel gets its node from the token, other accounts only their own identity", async () => {
    const kc = await setup();
    api!.tokens.set("zt-token", { username: "system:serviceaccount:istio-system:ztunnel", extra: { "authentication.kubernetes.io/node-name": ["node-7"] } });
    api!.tokens.set("pod-token", {
      username: "system:serviceaccount:istio-system:ztunnel",
      extra: { "authentication.kubernetes.io/pod-name": ["ztunnel-abc"] },
    });
    api!.tokens.set("app-token", { username: "system:serviceaccount:demo:sleep" });
    const auth = new TokenReviewAuthenticator({
      kubeConfig: kc,
      allowed: ["istio-system/ztunnel"],
      nodeOfPod: (ns, name) => (ns === "istio-system" && name === "ztunnel-abc" ? "node-3" : undefined),
    });
    expect(await auth.authenticate("Bearer zt-token")).toEqual({
      subject: "system:serviceaccount:istio-system:ztunnel",
      node: "node-7",
      identity: { namespace: "istio-system", serviceAccount: "ztunnel" },
    });
    expect((await auth.authenticate("Bearer pod-token")).node).toBe("node-3");
    expect(await auth.authenticate("Bearer app-token")).toEqual({
      subject: "system:serviceaccount:demo:sleep",
      node: undefined,
      identity: { namespace: "demo", serviceAccount: "sleep" },
    });
    api!.tokens.set("user-token", { username: "alice" });
    await expect(auth.authenticate("Bearer user-token")).rejects.toMatchObject({ code: Code.PermissionDenied });
    await expect(auth.authenticate("Bearer nope")).rejects.toMatchObject({ code: Code.Unauthenticated });
    const none = await auth.authenticate(null).catch((e: unknown) => ConnectError.from(e));
    expect(none).toMatchObject({ code: Code.Unauthenticated });
  });

  it("publishes the trust bundle as ConfigMap istio-ca-root-cert, creating or replacing it", async () => {
    const kc = await setup();
    await publishRootCert({ kubeConfig: kc, namespaces: ["demo"], rootPem: "ROOT-1", log: silentLogger() });
    expect(api!.get("/api/v1/namespaces/demo/configmaps", "demo", "istio-ca-root-cert")).toMatchObject({ data: { "root-cert.pem": "ROOT-1" } });
    await publishRootCert({ kubeConfig: kc, namespaces: ["demo"], rootPem: "ROOT-2", log: silentLogger() });
    expect(api!.get("/api/v1/namespaces/demo/configmaps", "demo", "istio-ca-root-cert")).toMatchObject({ data: { "root-cert.pem": "ROOT-2" } });
  });
});

describe("the control plane process in Kubernetes mode", () => {
  it("lists every kind, creates its CA Secret, publishes the trust bundle and becomes ready", async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { fileURLToPath } = await import("node:url");
    await setup();
    const server = serverUrl;
    api!.seed("/api/v1/namespaces", { metadata: { name: "demo", labels: { "istio.io/dataplane-mode": "ambient" } } });
    api!.seed("/api/v1/pods", { metadata: { name: "web", namespace: "demo" }, spec: { nodeName: "node-1", containers: [] }, status: { podIP: "10.0.0.5" } });
    const dir = mkdtempSync(join(tmpdir(), "al-kubecp-"));
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{ name: t, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]\nusers: [{ name: t, user: {} }]\ncontexts: [{ name: t, context: { cluster: t, user: t } }]\ncurrent-context: t\n`,
    );
    const admin = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [fileURLToPath(new URL("./main.ts", import.meta.url))], {
      env: {
        ...process.env,
        DISCOVERY: "kubernetes",
        KUBECONFIG: kubeconfig,
        GRPC_ADDRESS: `127.0.0.1:${admin + 1}`,
        ADMIN_ADDRESS: `127.0.0.1:${admin}`,
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.once("exit", r));
    try {
      let ready = false;
      for (let i = 0; i < 100 && !ready && child.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${admin}/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, stderr).toBe(true);
      const listed = new Set(api!.requests.filter((r) => !r.watch).map((r) => r.path));
      for (const p of [
        "/api/v1/pods",
        "/api/v1/services",
        "/apis/discovery.k8s.io/v1/endpointslices",
        "/apis/security.istio.io/v1/authorizationpolicies",
        "/apis/gateway.networking.k8s.io/v1/httproutes",
      ]) {
        expect(listed.has(p), p).toBe(true);
      }
      expect(api!.get(SECRETS, "istio-system", "istio-ca-secret")).toBeDefined();
      for (let i = 0; i < 50 && !api!.get("/api/v1/namespaces/demo/configmaps", "demo", "istio-ca-root-cert"); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(api!.get("/api/v1/namespaces/demo/configmaps", "demo", "istio-ca-root-cert")).toBeDefined();
      const dump = (await (await fetch(`http://127.0.0.1:${admin}/debug/config_dump`)).json()) as { workloads: Array<{ name: string; protocol: string }> };
      expect(dump.workloads).toEqual([expect.objectContaining({ name: "web", protocol: "HBONE" })]);
    } finally {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("policy status", () => {
  it("writes ZtunnelAccepted conditions with a merge patch, only when they change", async () => {
    const { PolicyStatusWriter, policyConditions } = await import("./status-writer.ts");
    const kc = await setup();
    const AP = "/apis/security.istio.io/v1/namespaces/demo/authorizationpolicies";
    api!.seed(AP, { metadata: { name: "good", namespace: "demo" } });
    api!.seed(AP, { metadata: { name: "bad", namespace: "demo" } });
    const notes = [
      {
        kind: "AuthorizationPolicy",
        namespace: "demo",
        name: "bad",
        status: "Rejected" as const,
        reason: 'rules[0].from[0].source.ipBlocks: "x" is not an IP address or CIDR block',
      },
    ];
    expect(policyConditions(["demo/good", "demo/bad"], notes).get("demo/bad")).toMatchObject({ status: "False", reason: "Invalid" });
    expect(policyConditions(["demo/l7"], [], new Set(["demo/l7"])).get("demo/l7")).toEqual({
      type: "WaypointAccepted",
      status: "True",
      reason: "Accepted",
      message: "enforced by the waypoint",
    });
    const w = new PolicyStatusWriter(kc, silentLogger());
    const t = { workloads: [], services: [], policies: [], routes: [], l7Policies: [], notes };
    await w.update(t, ["demo/bad", "demo/good"]);
    await w.update(t, ["demo/bad", "demo/good"]);
    expect(api!.patches).toHaveLength(2);
    expect(api!.patches[0]!.contentType).toContain("application/merge-patch+json");
    expect(api!.get(AP, "demo", "bad")).toMatchObject({ status: { conditions: [{ type: "ZtunnelAccepted", status: "False", reason: "Invalid" }] } });
    expect(api!.get(AP, "demo", "good")).toMatchObject({ status: { conditions: [{ type: "ZtunnelAccepted", status: "True", reason: "Accepted" }] } });
  });
});

describe("HTTPRoute status", () => {
  it("reports each mesh route Accepted, or not and why, per Service parent; gateway routes get nothing", async () => {
    const { RouteStatusWriter, MESH_CONTROLLER } = await import("./route-status.ts");
    const kc = await setup();
    const HR = "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes";
    const route = (name: string, parentRefs: unknown[]) =>
      ({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name, namespace: "shop", generation: 3 }, spec: { parentRefs } }) as never;
    const GR = "/apis/gateway.networking.k8s.io/v1/namespaces/shop/grpcroutes";
    const routes = [
      route("ok", [{ group: "", kind: "Service", name: "cart", port: 80 }]),
      route("sticky", [{ kind: "Service", name: "cart" }]),
      route("ingress", [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public" }]),
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "GRPCRoute",
        metadata: { name: "rpc", namespace: "shop" },
        spec: { parentRefs: [{ kind: "Service", name: "cart" }] },
      } as never,
    ];
    for (const r of ["ok", "sticky", "ingress"]) api!.seed(HR, { metadata: { name: r, namespace: "shop" } });
    api!.seed(GR, { metadata: { name: "rpc", namespace: "shop" } });
    const notes = [
      {
        kind: "HTTPRoute",
        namespace: "shop",
        name: "sticky",
        status: "Rejected" as const,
        reason: "rules[0].sessionPersistence is not supported",
      },
    ];
    const w = new RouteStatusWriter(kc, silentLogger());
    await w.update(routes, notes);
    await w.update(routes, notes);
    // Written once each, only for the mesh routes.
    expect(api!.patches.map((p) => p.path)).toEqual([`${HR}/ok/status`, `${HR}/sticky/status`, `${GR}/rpc/status`]);
    expect(api!.get(GR, "shop", "rpc")).toMatchObject({
      status: { parents: [{ conditions: [{ type: "Accepted", status: "True" }, { type: "ResolvedRefs" }] }] },
    });
    expect(api!.get(HR, "shop", "ok")).toMatchObject({
      status: {
        parents: [
          {
            parentRef: { group: "", kind: "Service", name: "cart", namespace: "shop", port: 80 },
            controllerName: MESH_CONTROLLER,
            conditions: [
              { type: "Accepted", status: "True", reason: "Accepted", observedGeneration: 3 },
              { type: "ResolvedRefs", status: "True" },
            ],
          },
        ],
      },
    });
    expect(api!.get(HR, "shop", "sticky")).toMatchObject({
      status: {
        parents: [
          {
            conditions: [
              { type: "Accepted", status: "False", reason: "UnsupportedValue", message: expect.stringMatching(/sessionPersistence/) },
              { type: "ResolvedRefs" },
            ],
          },
        ],
      },
    });
    expect((api!.get(HR, "shop", "ingress") as { status?: unknown }).status).toBeUndefined();
  });
});

describe("injection webhook caBundle", () => {
  it("sets the mesh root as every webhook's caBundle, repairs it when reset, and writes nothing when it is right", async () => {
    const { CaBundlePatcher } = await import("./injection/ca-bundle.ts");
    const { sidecarInjectorWebhook, INJECTOR_CONFIGURATION } = await import("../manifests/index.ts");
    const kc = await setup();
    const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
    api!.seed(MWC, sidecarInjectorWebhook("istio-system") as never);
    const rootPem = "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n";
    const p = new CaBundlePatcher({ kubeConfig: kc, rootPem, log: silentLogger(), intervalMs: 60_000 });
    const bundles = () =>
      (api!.get(MWC, "", INJECTOR_CONFIGURATION) as unknown as { webhooks: Array<{ clientConfig: { caBundle?: string } }> }).webhooks.map(
        (w) => w.clientConfig.caBundle,
      );
    await p.check();
    const want = Buffer.from(rootPem).toString("base64");
    expect(bundles()).toEqual([want, want]);
    const rv = api!.get(MWC, "", INJECTOR_CONFIGURATION)!.metadata.resourceVersion;
    await p.check();
    expect(api!.get(MWC, "", INJECTOR_CONFIGURATION)!.metadata.resourceVersion).toBe(rv);
    // A GitOps tool re-applying the rendered object (no caBundle): the next check puts it back.
    api!.put(MWC, sidecarInjectorWebhook("istio-system") as never);
    expect(bundles()).toEqual([undefined, undefined]);
    await p.check();
    expect(bundles()).toEqual([want, want]);
    await p.stop();
  });
});
