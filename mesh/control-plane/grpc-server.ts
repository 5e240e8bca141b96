// The control plane's gRPC endpoint (15012): TLS with a certificate for the control plane's own SPIFFE
// identity, HTTP/2 only, serving the config stream and the certificate service. Clients authenticate
// with bearer tokens; anything that is not TLS + HTTP/2 is dropped at the handshake.
import http2 from "node:http2";
import type net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { CertificateService, CertificateRequestSchema, CertificateResponseSchema } from "../api/index.ts";
import { DELTA_AGGREGATED_RESOURCES_ENCODED, DELTA_AGGREGATED_RESOURCES_PATH, DeltaDiscoveryRequestSchema, responseChunks } from "../api/index.ts";
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponseEncoded } from "../api/index.ts";
import type { SockAddr } from "../shared/index.ts";
import { describeError } from "../shared/index.ts";
import type { Identity } from "../shared/index.ts";
import type { Server } from "../shared/index.ts";
import { boundAddress, listen } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { createCsr, signWorkloadCert, type CaMaterial } from "../shared/index.ts";
import type { CaService } from "./ca/ca-service.ts";
import type { AdsServer } from "./push/ads.ts";
import { isGrpc, serveUnary, type UnaryMethod } from "./grpc-unary.ts";
import { serveStream, type StreamMethod } from "./grpc-stream.ts";

/** The certificate service's one method, served without connect (grpc-unary.ts). */
function createCertificateMethod(ca: CaService): UnaryMethod<ReturnType<typeof fromBinary<typeof CertificateRequestSchema>>> {
  return {
    path: `/${CertificateService.typeName}/${CertificateService.method.createCertificate.name}`,
    // A CSR is ~500 bytes of PEM; 64 KiB leaves room and bounds what a caller makes us buffer.
    maxRequestBytes: 64 * 1024,
    decode: (bytes) => fromBinary(CertificateRequestSchema, bytes),
    handle: async (req, headers) => {
      const auth = headers.authorization;
      const resp = await ca.createCertificate(req, typeof auth === "string" ? auth : undefined);
      return toBinary(CertificateResponseSchema, create(CertificateResponseSchema, resp));
    },
  };
}

/** The config stream's one method, served without connect for gRPC clients (grpc-stream.ts). */
function createAdsMethod(ads: AdsServer): StreamMethod<DeltaDiscoveryRequest, DeltaDiscoveryResponseEncoded> {
  return {
    path: DELTA_AGGREGATED_RESOURCES_PATH,
    // A request lists resource names and versions it holds (a reconnecting proxy: every name), 4 MiB
    // as connect's default read limit allowed.
    maxRequestBytes: 4 * 1024 * 1024,
    decode: (bytes) => fromBinary(DeltaDiscoveryRequestSchema, bytes),
    encode: responseChunks,
    handle: (requests, headers) => ads.stream(requests, typeof headers.authorization === "string" ? headers.authorization : undefined),
  };
}

export async function servingCert(
  ca: CaMaterial,
  identity: Identity,
  ttlSeconds: number,
): Promise<{ cert: string; key: string; notAfter: Date; notBefore: Date }> {
  const { csrPem, keyPem } = await createCsr(identity);
  const issued = await signWorkloadCert({ ca, csrPem, identity, ttlSeconds });
  return { cert: issued.chainPem.slice(0, -1).join(""), key: keyPem, notAfter: issued.notAfter, notBefore: issued.notBefore };
}

export class GrpcServer implements Server {
  private readonly server: http2.Http2SecureServer;
  private readonly at: SockAddr;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly log: Logger;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly renew: () => Promise<{ cert: string; key: string; notAfter: Date; notBefore: Date }>;

  constructor(opts: {
    at: SockAddr;
    ads: AdsServer;
    ca: CaService;
    log: Logger;
    credentials: { cert: string; key: string; notAfter: Date; notBefore: Date };
    renew: () => Promise<{ cert: string; key: string; notAfter: Date; notBefore: Date }>;
  }) {
    this.at = opts.at;
    this.log = opts.log;
    this.renew = opts.renew;
    const handler = connectNodeAdapter({
      // No compression either way: peers are in the cluster, and gzip was 7 % of the control plane's CPU
      // while signing certificates (issue 13), and more on every large config push. Clients that offer
      // gzip get identity encoding.
      acceptCompression: [],
      routes: (router) => {
        // The config stream with resources encoded once per change (api/ads-encoded.ts).
        router.rpc(DELTA_AGGREGATED_RESOURCES_ENCODED, (reqs, ctx) => opts.ads.stream(reqs, ctx.requestHeader.get("authorization")));
        // The Connect and gRPC-web protocols (curl with JSON, browsers) still go through connect, for
        // both services; gRPC, what the proxies speak, takes the direct paths below.
        router.service(CertificateService, {
          createCertificate: (req, ctx) => opts.ca.createCertificate(req, ctx.requestHeader.get("authorization") ?? undefined),
        });
      },
    });
    const certificates = createCertificateMethod(opts.ca);
    const config = createAdsMethod(opts.ads);
    this.server = http2.createSecureServer(
      { cert: opts.credentials.cert, key: opts.credentials.key, minVersion: "TLSv1.3", ALPNProtocols: ["h2"], allowHTTP1: false },
      (req, res) => {
        const path = req.headers[":path"];
        if (path === certificates.path && isGrpc(req.headers)) return serveUnary(req, res, certificates, this.log);
        if (path === config.path && isGrpc(req.headers)) return serveStream(req, res, config, this.log);
        return handler(req, res);
      },
    );
    this.server.on("session", (s) => {
      this.sessions.add(s);
      s.on("close", () => this.sessions.delete(s));
      s.on("error", () => undefined);
    });
    this.server.on("tlsClientError", (err) => this.log.debug({ err: describeError(err) }, "gRPC TLS handshake failed"));
    this.server.on("sessionError", (err) => this.log.debug({ err: describeError(err) }, "gRPC session error"));
    this.scheduleRenewal(opts.credentials);
  }

  private scheduleRenewal(c: { notBefore: Date; notAfter: Date }): void {
    const half = c.notBefore.getTime() + (c.notAfter.getTime() - c.notBefore.getTime()) / 2;
    this.renewTimer = setTimeout(
      () => {
        this.renew()
          .then((next) => {
            this.server.setSecureContext({ cert: next.cert, key: next.key, minVersion: "TLSv1.3" });
            this.scheduleRenewal(next);
          })
          .catch((err) => {
            this.log.error({ err: describeError(err) }, "renewing the control plane's serving certificate failed; retrying in 60 s");
            this.renewTimer = setTimeout(() => this.scheduleRenewal({ notBefore: new Date(), notAfter: new Date(Date.now() + 120_000) }), 0);
          });
      },
      Math.max(1000, half - Date.now()),
    );
    this.renewTimer.unref();
  }

  start(): Promise<void> {
    return listen(this.server as unknown as net.Server, this.at);
  }

  address(): SockAddr {
    return boundAddress(this.server as unknown as net.Server);
  }

  async drain(deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sessions) s.close(); // GOAWAY: streams in flight may finish
    const timer = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, deadlineMs);
    await closed;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    clearTimeout(this.renewTimer);
    await this.drain(0);
  }
}
