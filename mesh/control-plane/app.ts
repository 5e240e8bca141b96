// One control plane: discovery -> store -> translate -> push, plus the CA, wired together. Discovery
// sources are injected (files today; the Kubernetes API through the same store), as are the CA material
// and the authenticator.
import type { SockAddr } from "../shared/index.ts";
import { HttpServer, systemClock } from "../shared/index.ts";
import { formatIdentity, type Identity } from "../shared/index.ts";
import { Readiness } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import type { CaMaterial } from "../shared/index.ts";
import { controlPlaneAdmin } from "./admin/admin.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import { CaService } from "./ca/ca-service.ts";
import { NodeIdentityIndex } from "./ca/node-index.ts";
import { GrpcServer, servingCert } from "./grpc-server.ts";
import { BurstCollector, type MajorGc } from "./push/burst-collector.ts";
import { AdsServer, waypointTypesOnlyForWaypoints } from "./push/ads.ts";
import { isWaypointGateway } from "./waypoints/objects.ts";
import { ControlPlaneMetrics } from "./push/metrics.ts";
import { SnapshotBuilder } from "./push/snapshot.ts";
import { ObjectStore } from "./store/object-store.ts";
import { toPlain } from "./translate/serialize.ts";
import type { TranslateOptions } from "./translate/index.ts";
import type { Runner } from "./runners/runner.ts";
import { InjectionWebhook } from "./injection/webhook-server.ts";
import type { SidecarOptions } from "../manifests/index.ts";

export interface DiscoverySource {
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  listen: { grpc: SockAddr; admin: SockAddr };
  translate: TranslateOptions;
  /** The control plane's own identity, presented on the gRPC port. */
  identity: Identity;
  ca: CaMaterial;
  /** Who is calling, from a bearer token; given the store (e.g. to find a pod's node). */
  auth: (store: ObjectStore) => Authenticator;
  log: Logger;
  debounceMs?: number;
  certTtlSeconds?: number;
  maxCertTtlSeconds?: number;
  processMetrics?: boolean;
  /**
   * A major collection, asked for after a burst of whole-config sends (push/burst-collector.ts; the
   * image exposes V8's with --expose-gc), and when. Without one, V8 decides alone when that garbage goes.
   */
  afterBurst?: { collect: MajorGc; thresholdBytes?: number; quietMs?: number; minIntervalMs?: number };
  /** The sidecar injection webhook (Kubernetes mode with SIDECAR_IMAGE): where, with which sidecar, for which names. */
  injection?: { listen: SockAddr; sidecar: SidecarOptions; dnsNames: string[] };
  /** Builds the discovery sources once the store exists. */
  discovery: (store: ObjectStore) => DiscoverySource[];
  /** Side pipelines (status, trust bundle, waypoints, tokens): started once serving, stopped first. */
  runners?: (cp: ControlPlane) => Runner[];
}

export class ControlPlane {
  readonly store = new ObjectStore();
  readonly metrics: ControlPlaneMetrics;
  readonly builder: SnapshotBuilder;
  readonly ads: AdsServer;
  readonly readiness = new Readiness(["discovery", "grpc"]);
  private readonly opts: ControlPlaneOptions;
  private readonly sources: DiscoverySource[];
  private readonly auth: Authenticator;
  private runners: Runner[] = [];
  private readonly admin: HttpServer;
  private grpc: GrpcServer | undefined;
  private webhook: InjectionWebhook | undefined;

  constructor(opts: ControlPlaneOptions) {
    this.opts = opts;
    this.metrics = new ControlPlaneMetrics({ processMetrics: opts.processMetrics ?? false });
    this.builder = new SnapshotBuilder({ store: this.store, translate: opts.translate, debounceMs: opts.debounceMs ?? 100, log: opts.log });
    this.builder.subscribe(() => this.metrics.translateSeconds.observe(this.builder.lastTranslateMs / 1000));
    // A waypoint's service account is named after its Gateway (Istio's deployment controller does the same).
    const isWaypoint = (ns: string, sa: string) => {
      const g = this.store.get("Gateway", `${ns}/${sa}`);
      return g !== undefined && isWaypointGateway(g);
    };
    this.auth = opts.auth(this.store);
    this.ads = new AdsServer({
      builder: this.builder,
      auth: this.auth,
      metrics: this.metrics,
      log: opts.log,
      mayReceive: waypointTypesOnlyForWaypoints(isWaypoint),
      ...(opts.afterBurst
        ? { afterBurst: new BurstCollector({ ...opts.afterBurst, collect: this.countedGc(opts.afterBurst.collect), clock: systemClock }) }
        : {}),
    });
    this.sources = opts.discovery(this.store);
    this.admin = new HttpServer(
      opts.listen.admin,
      controlPlaneAdmin({ configDump: () => this.configDump(), connections: () => this.ads.describe(), metrics: this.metrics, readiness: this.readiness }),
      opts.log,
    );
  }

  private countedGc(gc: MajorGc): MajorGc {
    return () => {
      this.metrics.burstCollections.inc();
      gc();
    };
  }

  async start(): Promise<void> {
    await this.admin.start();
    this.builder.start();
    this.ads.start();
    for (const s of this.sources) await s.start();
    // Translate once before serving, so the first proxy gets a complete snapshot rather than none.
    this.builder.rebuild();
    this.readiness.satisfy("discovery");
    const ttl = 7 * 86_400;
    const credentials = await servingCert(this.opts.ca, this.opts.identity, ttl);
    const index = new NodeIdentityIndex(this.store);
    const ca = new CaService({
      ca: () => this.opts.ca,
      auth: this.auth,
      metrics: this.metrics,
      log: this.opts.log,
      policy: {
        trustDomain: this.opts.translate.trustDomain,
        defaultTtlSeconds: this.opts.certTtlSeconds ?? 86_400,
        maxTtlSeconds: this.opts.maxCertTtlSeconds ?? 30 * 86_400,
        identityOnNode: (id, node) => index.has(id, node),
      },
    });
    this.grpc = new GrpcServer({
      at: this.opts.listen.grpc,
      ads: this.ads,
      ca,
      log: this.opts.log,
      credentials,
      renew: () => servingCert(this.opts.ca, this.opts.identity, ttl),
    });
    await this.grpc.start();
    this.readiness.satisfy("grpc");
    const inj = this.opts.injection;
    if (inj) {
      this.webhook = new InjectionWebhook(
        {
          ca: () => this.opts.ca,
          dnsNames: inj.dnsNames,
          sidecar: inj.sidecar,
          namespaceLabels: (ns) => this.store.get("Namespace", ns)?.metadata?.labels,
          meshNamespace: this.opts.identity.namespace,
          log: this.opts.log,
          onDecision: (injected) => {
            this.metrics.injection.requests.inc();
            (injected ? this.metrics.injection.success : this.metrics.injection.skip).inc();
          },
        },
        inj.listen,
      );
      await this.webhook.start();
    }
    this.runners = this.opts.runners?.(this) ?? [];
    for (const r of this.runners) r.start();
    this.opts.log.info({ grpc: this.grpc.address(), admin: this.admin.address(), identity: formatIdentity(this.opts.identity) }, "control plane started");
  }

  addresses(): { grpc: SockAddr; admin: SockAddr; webhook?: SockAddr } {
    return { grpc: this.grpc!.address(), admin: this.admin.address(), ...(this.webhook ? { webhook: this.webhook.address() } : {}) };
  }

  configDump(): unknown {
    const snap = this.builder.current;
    return {
      version: snap?.version ?? 0,
      objects: Object.fromEntries(Object.entries(this.store.snapshot()).map(([k, v]) => [k, (v as unknown[]).length])),
      ...(snap ? (toPlain(snap.translation) as object) : {}),
    };
  }

  async stop(deadlineMs = 2000): Promise<void> {
    this.readiness.require("draining");
    for (const r of this.runners) await r.stop();
    this.ads.stop();
    await this.grpc?.drain(deadlineMs);
    await this.webhook?.drain(deadlineMs);
    this.builder.stop();
    for (const s of this.sources) await s.close();
    await this.admin.close();
  }
}
