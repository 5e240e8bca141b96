// The sidecar injection webhook as the API server uses it: AdmissionReviews POSTed over TLS verified
// against the mesh root for the Service's DNS name, the JSON Patch applied with an independent RFC 6902
// implementation, and the resulting pod checked against the Pod schema, the kubelet's rules, and the
// render-time injection (one sidecar definition for both).
import https from "node:https";
import jsonpatch from "fast-json-patch";
import * as core from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { injectTemplate, sidecarOptionsFor, SIDECAR_CONTAINER, type Template } from "../../manifests/index.ts";
import { createRootCa, silentLogger, type CaMaterial } from "../../shared/index.ts";
import { injectionDecision } from "./decide.ts";
import { admissionResponse, INJECT_PATH, InjectionWebhook } from "./webhook-server.ts";

const sidecar = sidecarOptionsFor({ namespace: "istio-system", trustDomain: "cluster.local", image: "ambient-lab/ztunnel:dev", pullPolicy: "IfNotPresent" });
const NAMESPACES: Record<string, Record<string, string>> = { shop: { "istio-injection": "enabled" }, plain: {}, off: { "istio-injection": "disabled" } };
const deps = { sidecar, namespaceLabels: (ns: string) => NAMESPACES[ns], meshNamespace: "istio-system" };

function pod(namespace: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; hostNetwork?: boolean } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-1", namespace, labels: { app: "web", ...extra.labels }, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      serviceAccountName: "web",
      ...(extra.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 8080 }] }],
      volumes: [{ name: "cache", emptyDir: {} }],
    },
  };
}

function review(object: unknown, uid = "u-1") {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "shop",
      operation: "CREATE",
      object,
    },
  };
}

describe("injection decision (Istio's rules)", () => {
  it.each([
    ["shop", {}, true],
    ["plain", {}, false],
    ["off", {}, false],
    ["plain", { labels: { "sidecar.istio.io/inject": "true" } }, true],
    // Either label saying no wins, as in Istio.
    ["off", { labels: { "sidecar.istio.io/inject": "true" } }, false],
    ["shop", { labels: { "sidecar.istio.io/inject": "false" } }, false],
    ["shop", { annotations: { "sidecar.istio.io/inject": "false" } }, false],
    ["shop", { hostNetwork: true }, false],
    ["istio-system", { labels: { "sidecar.istio.io/inject": "true" } }, false],
  ] as const)("namespace %s, pod %j -> inject %s", (ns, extra, want) => {
    expect(injectionDecision(pod(ns, extra), NAMESPACES[ns], "istio-system").inject).toBe(want);
  });

  it("never injects twice", () => {
    const p = pod("shop");
    const once = injectTemplate({ metadata: { labels: p.metadata.labels }, spec: p.spec } as Template, sidecar);
    expect(injectionDecision({ ...p, spec: once.spec as never }, NAMESPACES.shop, "istio-system")).toMatchObject({
      inject: false,
      reason: "the pod already has the proxy",
    });
  });
});

describe("injection patch", () => {
  it("gives the pod render-time injection gives it, schema-valid", () => {
    for (const p of [pod("shop"), { ...pod("shop"), metadata: { name: "bare", namespace: "shop" }, spec: { containers: [{ name: "a", image: "b" }] } }]) {
      const r = admissionResponse(review(p), deps);
      expect(r.status).toBe(200);
      const resp = (r as { review: { response: { uid: string; allowed: boolean; patchType: string; patch: string } } }).review.response;
      expect(resp).toMatchObject({ uid: "u-1", allowed: true, patchType: "JSONPatch" });
      const ops = JSON.parse(Buffer.from(resp.patch, "base64").toString("utf8")) as jsonpatch.Operation[];
      const patched = jsonpatch.applyPatch(structuredClone(p), ops, true, false).newDocument;
      const rendered = injectTemplate(
        { metadata: { labels: (p.metadata as { labels?: Record<string, string> }).labels ?? {} }, spec: p.spec as Template["spec"] },
        sidecar,
      );
      expect(patched.spec).toEqual(rendered.spec);
      expect((patched.metadata as { labels: unknown }).labels).toEqual(rendered.metadata?.labels);
      expect((patched.spec as unknown as { initContainers: Array<{ name: string }> }).initContainers[0]!.name).toBe(SIDECAR_CONTAINER);
      expect(() => new core.Pod(patched as never).validate()).not.toThrow();
    }
  });

  it("lets through, unchanged, pods it does not inject and objects that are not pods being created", () => {
    for (const body of [review(pod("plain")), { ...review(pod("shop")), request: { ...review(pod("shop")).request, operation: "UPDATE" } }]) {
      const r = admissionResponse(body, deps) as { status: number; review: { response: Record<string, unknown> } };
      expect(r.status).toBe(200);
      expect(r.review.response).toEqual({ uid: "u-1", allowed: true });
    }
  });

  it("refuses what is not an AdmissionReview, saying why", () => {
    expect(admissionResponse({ kind: "Pod" }, deps)).toMatchObject({
      status: 400,
      error: expect.stringMatching(/not an admission.k8s.io\/v1 AdmissionReview/),
    });
    expect(admissionResponse({ ...review(pod("shop")), request: { uid: "" } }, deps)).toMatchObject({ status: 400 });
  });
});

describe("the webhook over TLS, as the API server calls it", () => {
  let ca: CaMaterial;
  let webhook: InjectionWebhook;
  const DNS = "istiod.istio-system.svc";
  beforeAll(async () => {
    ca = await createRootCa({ trustDomain: "cluster.local" });
    webhook = new InjectionWebhook({ ...deps, ca: () => ca, dnsNames: [DNS, `${DNS}.cluster.local`], log: silentLogger() }, { ip: "127.0.0.1", port: 0 });
    await webhook.start();
  });
  afterAll(() => webhook?.close());

  const post = (body: string | Buffer, headers: Record<string, string> = { "content-type": "application/json" }, path = INJECT_PATH) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port: webhook.address().port,
          method: "POST",
          path,
          ca: ca.rootPem,
          servername: DNS,
          headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  it("answers an AdmissionReview with the patch, over a certificate the mesh root vouches for the Service's name", async () => {
    const r = await post(JSON.stringify(review(pod("shop"), "abc")));
    expect(r.status).toBe(200);
    const back = JSON.parse(r.text) as { apiVersion: string; kind: string; response: { uid: string; patchType: string } };
    expect(back).toMatchObject({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "abc", allowed: true, patchType: "JSONPatch" } });
  });

  it("answers bad requests with the status that names the problem, and keeps serving", async () => {
    expect((await post("{not json")).status).toBe(400);
    expect((await post(JSON.stringify({ kind: "AdmissionReview" }))).status).toBe(400);
    expect((await post("{}", { "content-type": "text/plain" })).status).toBe(415);
    expect((await post("{}", { "content-type": "application/json" }, "/other")).status).toBe(404);
    expect((await post(Buffer.alloc(5 * 2 ** 20, 0x20))).status).toBe(413);
    expect((await post(JSON.stringify(review(pod("plain"))))).status).toBe(200);
  });
});
