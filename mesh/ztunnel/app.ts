// One ztunnel: wires state, identity, the data-path listeners, telemetry, admin and (optionally)
// traffic capture together. main.ts builds the options from the environment; tests build them directly.
import type { SockAddr } from "../shared/index.ts";
import { describeError, ErrorCode, MeshError } from "../shared/index.ts";
import { HttpServer } from "../shared/index.ts";
import { Readiness, type Server } from "../shared/index.ts";
import { RateLimitedLog } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { adminHandler, metricsHandler, readinessHandler } from "../proxy/index.ts";
import { CertManager } from "../proxy/index.ts";
import type { CaClient } from "../proxy/index.ts";
import { defaultReadPools } from "./proxy/read-pool.ts";
import { servesFor, type ProxyContext } from "./proxy/context.ts";
import { DEFAULT_TUNING, type ProxyTuning } from "../proxy/index.ts";
import { identityOf } from "../proxy/index.ts";
import { HbonePool } from "../proxy/index.ts";
import { HboneServer } from "./proxy/hbone-server.ts";
import { limitReporter } from "../proxy/index.ts";
import { InboundPlaintextServer } from "./proxy/inbound-plain.ts";
import type { Network } from "../proxy/index.ts";
import { OutboundServer } from "./proxy/outbound.ts";
import { ConnectionTracker } from "./proxy/tracker.ts";
import { evaluate } from "./rbac/evaluate.ts";
import type { ProxyState } from "../proxy/index.ts";
import type { StateStore } from "../proxy/index.ts";
import { ZtunnelMetrics } from "./telemetry/metrics.ts";

export interface ListenConfig {
  /** Data-path listeners bind here (0.0.0.0 in a node; 127.0.0.1 in in-process tests). */
  host: string;
  outbound: number;
  inboundPlaintext: number;
  hbone: number;
  metrics: number;
  readiness: number;
  /** Admin binds to localhost only. */
  admin: number;
}

export const DEFAULT_PORTS: Omit<ListenConfig, "host"> = {
  outbound: 15001,
  inboundPlaintext: 15006,
  hbone: 15008,
  metrics: 15020,
  readiness: 15021,
  admin: 15000,
};

/**
 * Keeps capture rules in step with the workloads on this node. There is no removal on stop: rules
 * outlive the proxy so that a stopped proxy fails closed; only an explicit uninstall deletes them.
 */
export interface CaptureRules {
  apply(state: ProxyState): Promise<void>;
}

export interface ZtunnelOptions {
  node: string;
  trustDomain: string;
  clusterId?: string;
  listen: ListenConfig;
  state: StateStore;
  ca: CaClient;
  certTtlSeconds?: number;
  network: Network;
  log: Logger;
  accessLog?: Logger;
  tuning?: Partial<ProxyTuning>;
  drainDeadlineMs?: number;
  capture?: CaptureRules;
  processMetrics?: boolean;
  /** Called after /quitquitquit has drained the proxy. */
  onQuit?: () => void;
  pick?: (n: number) => number;
  /** Sidecar mode: the IP of the one pod this proxy runs beside. */
  sidecarPodIp?: string;
}

export interface ZtunnelAddresses {
  outbound: SockAddr;
  inboundPlaintext: SockAddr;
  hbone: SockAddr;
  metrics: SockAddr;
  readiness: SockAddr;
  admin: SockAddr;
}

export class Ztunnel {
  readonly ctx: ProxyContext;
  readonly metrics: ZtunnelMetrics;
  readonly readiness = new Readiness(["config", "listeners"]);
  private readonly opts: ZtunnelOptions;
  private readonly pool: HbonePool;
  private readonly dataServers: { outbound: OutboundServer; inboundPlaintext: InboundPlaintextServer; hbone: HboneServer };
  private readonly httpServers: { metrics: HttpServer; readiness: HttpServer; admin: HttpServer };
  private unsubscribe: (() => void) | undefined;
  private captureQueue: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  constructor(opts: ZtunnelOptions) {
    this.opts = opts;
    this.metrics = new ZtunnelMetrics({ processMetrics: opts.processMetrics ?? false });
    const log = opts.log;
    const peerLog = new RateLimitedLog(log);
    this.ctx = {
      node: opts.node,
      trustDomain: opts.trustDomain,
      clusterId: opts.clusterId ?? "Kubernetes",
      state: opts.state,
      certs: new CertManager({ ca: opts.ca, ttlSeconds: opts.certTtlSeconds ?? 86_400, log }),
      network: opts.network,
      tracker: new ConnectionTracker(),
      metrics: this.metrics,
      log,
      accessLog: opts.accessLog ?? log,
      tuning: { ...DEFAULT_TUNING, ...opts.tuning },
      peerLog,
      failLog: new RateLimitedLog(opts.accessLog ?? log, { burst: 20, intervalMs: 1000 }),
      limitHit: limitReporter(this.metrics.limitHits, peerLog),
      illegalPorts: new Set([
        opts.listen.outbound,
        opts.listen.inboundPlaintext,
        opts.listen.hbone,
        DEFAULT_PORTS.outbound,
        DEFAULT_PORTS.inboundPlaintext,
        DEFAULT_PORTS.hbone,
      ]),
      serves: servesFor(opts.node, opts.sidecarPodIp),
      readPools: defaultReadPools(),
    };
    const l = opts.listen;
    this.pool = new HbonePool(this.ctx);
    this.dataServers = {
      outbound: new OutboundServer(this.ctx, this.pool, { ip: l.host, port: l.outbound }, opts.pick),
      inboundPlaintext: new InboundPlaintextServer(this.ctx, { ip: l.host, port: l.inboundPlaintext }),
      hbone: new HboneServer(this.ctx, { ip: l.host, port: l.hbone }),
    };
    this.httpServers = {
      metrics: new HttpServer({ ip: l.host, port: l.metrics }, metricsHandler(this.metrics), log),
      readiness: new HttpServer({ ip: l.host, port: l.readiness }, readinessHandler(this.readiness), log),
      admin: new HttpServer(
        { ip: "127.0.0.1", port: l.admin },
        adminHandler({
          log,
          loggers: [log, this.ctx.accessLog],
          configDump: () => this.configDump(),
          quit: () => void this.stop().then(() => opts.onQuit?.()),
        }),
        log,
      ),
    };
  }

  async start(): Promise<void> {
    const servers: Server[] = [...Object.values(this.httpServers), ...Object.values(this.dataServers)];
    try {
      for (const s of servers) await s.start();
    } catch (err) {
      await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
      const code = (err as NodeJS.ErrnoException).code;
      throw new MeshError(
        ErrorCode.Config,
        code === "EADDRINUSE"
          ? `a ztunnel port is already in use (${(err as Error).message}): is another ztunnel running in this network namespace?`
          : "ztunnel listeners failed to start",
        { cause: err },
      );
    }
    this.readiness.satisfy("listeners");
    this.unsubscribe = this.opts.state.subscribe((state) => this.onState(state));
    this.opts.log.info({ node: this.opts.node, ...this.addresses() }, "ztunnel started");
  }

  addresses(): ZtunnelAddresses {
    return {
      outbound: this.dataServers.outbound.address(),
      inboundPlaintext: this.dataServers.inboundPlaintext.address(),
      hbone: this.dataServers.hbone.address(),
      metrics: this.httpServers.metrics.address(),
      readiness: this.httpServers.readiness.address(),
      admin: this.httpServers.admin.address(),
    };
  }

  private onState(state: ProxyState): void {
    this.readiness.satisfy("config");
    const local = state.workloadsWhere(this.ctx.serves);
    this.ctx.certs.track(local.map(identityOf));
    this.recheckConnections(state);
    const capture = this.opts.capture;
    if (capture) {
      // Serialized: each update is one atomic nft transaction, applied in order.
      this.captureQueue = this.captureQueue
        .then(() => capture.apply(state))
        .catch((err) => this.opts.log.error({ err: describeError(err) }, "updating capture rules failed"));
    }
  }

  /** Closes open inbound connections that the new policy set denies (ztunnel#311). */
  private recheckConnections(state: ProxyState): void {
    for (const c of this.ctx.tracker.list()) {
      if (!c.facts) continue;
      const dst = state.workloadByIp(c.facts.dstIp);
      const decision = dst ? evaluate(state.policiesFor(dst), c.facts) : { allowed: false as const, policy: undefined };
      if (!decision.allowed) {
        this.opts.log.info(
          { "conn.id": c.id, "dst.addr": `${c.facts.dstIp}:${c.facts.dstPort}`, policy: decision.policy },
          "closing connection denied by new policy",
        );
        c.close(new MeshError(ErrorCode.PolicyDenied, `connection closed due to policy rejection${decision.policy ? `: ${decision.policy}` : ""}`));
      }
    }
  }

  configDump(): unknown {
    const s = this.opts.state.current;
    return {
      node: this.opts.node,
      trustDomain: this.opts.trustDomain,
      configGeneration: this.opts.state.generation,
      workloads: s.workloads,
      services: s.services,
      policies: s.policies,
      certificates: this.ctx.certs.dump(),
      connections: { open: this.ctx.tracker.size, pools: this.pool.stats(), hbone: this.dataServers.hbone.stats() },
      ready: { ready: this.readiness.ready, waitingFor: this.readiness.waitingFor },
    };
  }

  /**
   * Graceful stop: close listeners, let open connections finish until the drain deadline, then end the
   * rest (HTTP/2 GOAWAY on HBONE), and close the admin endpoints last. Capture rules are left in place.
   */
  stop(deadlineMs = this.opts.drainDeadlineMs ?? 5_000): Promise<void> {
    this.stopping ??= (async () => {
      this.readiness.require("draining");
      this.opts.log.info({ deadlineMs, open: this.ctx.tracker.size }, "draining");
      for (const s of Object.values(this.dataServers)) s.stopAccepting();
      const finished = await this.ctx.tracker.waitIdle(deadlineMs);
      if (!finished) this.opts.log.info({ open: this.ctx.tracker.size }, "drain deadline reached; closing what is left");
      this.ctx.tracker.closeAll(new MeshError(ErrorCode.Draining, "ztunnel is shutting down"));
      this.pool.close();
      await Promise.all(Object.values(this.dataServers).map((s) => s.close()));
      this.unsubscribe?.();
      this.ctx.certs.close();
      // Capture rules stay (fail closed): until a ztunnel runs again, enrolled pods' connections are refused.
      await this.captureQueue;
      await Promise.all(Object.values(this.httpServers).map((s) => s.close()));
      this.opts.log.info("ztunnel stopped");
    })();
    return this.stopping;
  }
}
