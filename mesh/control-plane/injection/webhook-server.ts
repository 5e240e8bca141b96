// The sidecar injection webhook (Istio's istiod serves it on 15017, behind the istiod Service's 443): the
// API server POSTs an AdmissionReview for each pod being created, and gets back the review's response:
// allowed, with a JSON Patch adding our sidecar when injectionDecision says so. TLS with a certificate
// for the Service's DNS names from the mesh CA (the webhook configuration's caBundle is the mesh root),
// renewed before it expires. Bounded: 4 MiB per review (the API server sends at most 3 MiB objects),
// 10 s per request; anything that is not an AdmissionReview of a pod gets a 400 that says what is wrong.
import https from "node:https";
import type http from "node:http";
import { z } from "zod";
import type { SidecarOptions } from "../../manifests/index.ts";
import { boundAddress, describeError, issueServingCert, listen, type CaMaterial, type Logger, type Server, type SockAddr } from "../../shared/index.ts";
import { injectionDecision, type PodView } from "./decide.ts";
import { injectionPatch } from "./patch.ts";

export const WEBHOOK_PORT = 15017;
export const INJECT_PATH = "/inject";
const MAX_BODY = 4 * 2 ** 20;
const CERT_TTL_SECONDS = 7 * 86_400;

const reviewSchema = z.object({
  apiVersion: z.literal("admission.k8s.io/v1"),
  kind: z.literal("AdmissionReview"),
  request: z.object({
    uid: z.string().min(1),
    kind: z.object({ group: z.string(), version: z.string(), kind: z.string() }),
    namespace: z.string().optional(),
    operation: z.string(),
    object: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});

export interface WebhookDeps {
  ca: () => CaMaterial;
  /** The DNS names the API server uses for the webhook's Service. */
  dnsNames: string[];
  sidecar: SidecarOptions;
  /** The namespace's labels, from the control plane's store. */
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  meshNamespace: string;
  log: Logger;
  onDecision?: (injected: boolean) => void;
}

/** Pure: the AdmissionReview response for a review body (or a client error to answer with 400). */
export function admissionResponse(
  body: unknown,
  deps: Pick<WebhookDeps, "sidecar" | "namespaceLabels" | "meshNamespace">,
): { status: 200; review: unknown; injected: boolean } | { status: 400; error: string } {
  const parsed = reviewSchema.safeParse(body);
  if (!parsed.success)
    return {
      status: 400,
      error: `not an admission.k8s.io/v1 AdmissionReview: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    };
  const req = parsed.data.request;
  const allow = (extra: Record<string, unknown> = {}) => ({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: { uid: req.uid, allowed: true, ...extra },
  });
  // Only pods being created are ours to change; anything else the webhook is sent passes untouched.
  if (req.kind.group !== "" || req.kind.kind !== "Pod" || req.operation !== "CREATE" || !req.object) return { status: 200, review: allow(), injected: false };
  const pod = req.object as PodView & { metadata?: Record<string, unknown>; spec?: Record<string, unknown> };
  // The namespace may be missing from a pod of a generateName'd template; the request carries it.
  const namespace = pod.metadata?.namespace ?? req.namespace ?? "";
  const view: PodView = { ...pod, metadata: { ...pod.metadata, namespace } };
  const decision = injectionDecision(view, deps.namespaceLabels(namespace), deps.meshNamespace);
  if (!decision.inject) return { status: 200, review: allow(), injected: false };
  const patch = Buffer.from(JSON.stringify(injectionPatch(pod, deps.sidecar))).toString("base64");
  return { status: 200, review: allow({ patchType: "JSONPatch", patch }), injected: true };
}

export class InjectionWebhook implements Server {
  private readonly deps: WebhookDeps;
  private readonly at: SockAddr;
  private server: https.Server | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(deps: WebhookDeps, at: SockAddr) {
    this.deps = deps;
    this.at = at;
  }

  async start(): Promise<void> {
    const cert = await issueServingCert({ ca: this.deps.ca(), dnsNames: this.deps.dnsNames, ttlSeconds: CERT_TTL_SECONDS });
    this.server = https.createServer(
      { cert: cert.certPem, key: cert.keyPem, requestTimeout: 10_000, headersTimeout: 5_000, minVersion: "TLSv1.2" },
      (req, res) => this.handle(req, res),
    );
    this.scheduleRenewal(cert.notAfter);
    await listen(this.server, this.at);
  }

  address(): SockAddr {
    return boundAddress(this.server!);
  }

  private scheduleRenewal(notAfter: Date): void {
    // Two thirds into the certificate's life, as for the gRPC server's.
    const inMs = Math.max(60_000, ((notAfter.getTime() - Date.now()) * 2) / 3);
    this.renewTimer = setTimeout(() => {
      issueServingCert({ ca: this.deps.ca(), dnsNames: this.deps.dnsNames, ttlSeconds: CERT_TTL_SECONDS }).then(
        (c) => {
          this.server?.setSecureContext({ cert: c.certPem, key: c.keyPem });
          this.scheduleRenewal(c.notAfter);
        },
        (err: unknown) => {
          this.deps.log.error({ err: describeError(err) }, "renewing the injection webhook's certificate failed; retrying in a minute");
          this.scheduleRenewal(new Date(Date.now() + 90_000));
        },
      );
    }, inMs);
    this.renewTimer.unref();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fail = (status: number, error: string) => {
      if (!res.headersSent) res.writeHead(status, { "content-type": "text/plain", connection: "close" }).end(`${error}\n`);
    };
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== INJECT_PATH) return fail(404, `POST ${INJECT_PATH} only`);
    if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) return fail(415, "content-type must be application/json");
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY) return fail(413, `an AdmissionReview is at most ${MAX_BODY} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        fail(413, `an AdmissionReview is at most ${MAX_BODY} bytes`);
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_BODY) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        return fail(400, `the body is not JSON: ${describeError(err)}`);
      }
      const r = admissionResponse(body, this.deps);
      if (r.status === 400) {
        this.deps.log.warn({ err: r.error }, "injection webhook: bad request");
        return fail(400, r.error);
      }
      this.deps.onDecision?.(r.injected);
      const text = JSON.stringify(r.review);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
    });
    req.on("error", () => undefined);
  }

  /** Reviews in flight are answered (each takes milliseconds); idle connections close at once. */
  async drain(deadlineMs: number): Promise<void> {
    const s = this.server;
    if (!s) return;
    clearTimeout(this.renewTimer);
    const closed = new Promise<void>((r) => s.close(() => r()));
    s.closeIdleConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    await this.close();
  }

  async close(): Promise<void> {
    clearTimeout(this.renewTimer);
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
