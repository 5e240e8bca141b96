// One waypoint: its identity and certificate, the HBONE listener feeding the L7 proxy, upstream HBONE
// through a pool, telemetry and admin. main.ts builds the options from the environment; tests build
// them directly.
import type { SockAddr } from "../shared/index.ts";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { HttpServer } from "../shared/index.ts";
import { formatIdentity, type Identity } from "../shared/index.ts";
import { Readiness, type Server } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { adminHandler, metricsHandler, readinessHandler } from "../proxy/index.ts";
import type { CaClient } from "../proxy/index.ts";
import { CertManager } from "../proxy/index.ts";
import { RateLimitedLog } from "../shared/index.ts";
import { DEFAULT_TUNING, type ProxyTuning } from "../proxy/index.ts";
import { limitReporter } from "../proxy/index.ts";
import { HbonePool } from "../proxy/index.ts";
import type { Network } from "../proxy/index.ts";
import type { StateStore } from "../proxy/index.ts";
import { WaypointHboneListener } from "./hbone-listener.ts";
import { L7Proxy } from "./l7-proxy.ts";
import { WaypointMetrics } from "./telemetry.ts";
import { Upstreams } from "./upstream.ts";

export interface WaypointListen {
  /** The HBONE listener binds here (0.0.0.0 in a pod; 127.0.0.1 in in-process tests). */
  host: string;
  hbone: number;
  metrics: number;
  readiness: number;
  /** Admin binds to localhost only. */
  admin: number;
}

export const WAYPOINT_PORTS: Omit<WaypointListen, "host"> = { hbone: 15008, metrics: 15020, readiness: 15021, admin: 15000 };

export interface WaypointOptions {
  /** The Gateway this waypoint implements; L7 policies target it by namespace/name. */
  gateway: { namespace: string; name: string };
  identity: Identity;
  listen: WaypointListen;
  state: StateStore;
  ca: CaClient;
  certTtlSeconds?: number;
  network: Network;
  log: Logger;
  /** Per-request access log; none by default (as Istio's waypoints), `ACCESS_LOG=on` in main.ts. */
  accessLog?: Logger;
  tuning?: Partial<ProxyTuning>;
  drainDeadlineMs?: number;
  processMetrics?: boolean;
  onQuit?: () => void;
  pick?: (n: number) => number;
  /** How long a tunnel may take to show which HTTP version it speaks (default 10 s). */
  sniffTimeoutMs?: number;
}

export class Waypoint {
  readonly metrics: WaypointMetrics;
  readonly readiness = new Readiness(["config", "certificate", "listeners"]);
  private readonly opts: WaypointOptions;
  private readonly certs: CertManager;
  private readonly pool: HbonePool;
  private readonly proxy: L7Proxy;
  private readonly hbone: WaypointHboneListener;
  private readonly httpServers: { metrics: HttpServer; readiness: HttpServer; admin: HttpServer };
  private unsubscribe: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private certWatch: NodeJS.Timeout | undefined;

  constructor(opts: WaypointOptions) {
    this.opts = opts;
    const log = opts.log;
    const tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    const peerLog = new RateLimitedLog(log);
    this.metrics = new WaypointMetrics({ processMetrics: opts.processMetrics ?? false });
    this.certs = new CertManager({ ca: opts.ca, ttlSeconds: opts.certTtlSeconds ?? 86_400, log });
    this.pool = new HbonePool({ certs: this.certs, network: opts.network, tuning, log });
    const upstreams = new Upstreams({ identity: opts.identity, pool: this.pool, network: opts.network, connectTimeoutMs: tuning.connectTimeoutMs });
    const random = (n: number) => Math.floor(Math.random() * n);
    this.proxy = new L7Proxy({
      gateway: opts.gateway,
      state: opts.state,
      upstreams,
      metrics: this.metrics,
      log,
      accessLog: opts.accessLog,
      pick: opts.pick ?? random,
      ...(opts.sniffTimeoutMs ? { sniffTimeoutMs: opts.sniffTimeoutMs } : {}),
    });
    const l = opts.listen;
    this.hbone = new WaypointHboneListener(
      {
        identity: opts.identity,
        trustDomain: opts.identity.trustDomain,
        certs: this.certs,
        log,
        tuning,
        peerLog,
        limitHit: limitReporter(this.metrics.limitHits, peerLog),
        onTunnel: (t) => this.proxy.handleTunnel(t),
      },
      { ip: l.host, port: l.hbone },
    );
    this.httpServers = {
      metrics: new HttpServer({ ip: l.host, port: l.metrics }, metricsHandler(this.metrics), log),
      readiness: new HttpServer({ ip: l.host, port: l.readiness }, readinessHandler(this.readiness), log),
      admin: new HttpServer(
        { ip: "127.0.0.1", port: l.admin },
        adminHandler({
          log,
          loggers: [log, opts.accessLog ?? log],
          configDump: () => this.configDump(),
          quit: () => void this.stop().then(() => opts.onQuit?.()),
        }),
        log,
      ),
    };
  }

  async start(): Promise<void> {
    const servers: Server[] = [...Object.values(this.httpServers), this.hbone];
    try {
      for (const s of servers) await s.start();
    } catch (err) {
      await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
      const code = (err as NodeJS.ErrnoException).code;
      throw new MeshError(
        ErrorCode.Config,
        code === "EADDRINUSE" ? `a waypoint port is already in use (${(err as Error).message})` : "waypoint listeners failed to start",
        { cause: err },
      );
    }
    this.readiness.satisfy("listeners");
    if (this.opts.state.generation > 0) this.readiness.satisfy("config");
    this.unsubscribe = this.opts.state.subscribe(() => this.readiness.satisfy("config"));
    // The certificate manager fetches (retrying with backoff) and renews at half-life; the waypoint is
    // ready only once it holds one, since without it every tunnel would fail its handshake.
    this.certs.track([this.opts.identity]);
    const id = formatIdentity(this.opts.identity);
    const watch = () => {
      const c = this.certs.dump().find((x) => x.identity === id);
      if (c?.state === "Available") return this.readiness.satisfy("certificate");
      if (c?.lastError) this.opts.log.debug({ identity: id, err: c.lastError }, "waypoint certificate not issued yet");
      this.certWatch = setTimeout(watch, 200);
      this.certWatch.unref();
    };
    watch();
    this.opts.log.info(
      { gateway: `${this.opts.gateway.namespace}/${this.opts.gateway.name}`, identity: formatIdentity(this.opts.identity), ...this.addresses() },
      "waypoint started",
    );
  }

  addresses(): { hbone: SockAddr; metrics: SockAddr; readiness: SockAddr; admin: SockAddr } {
    return {
      hbone: this.hbone.address(),
      metrics: this.httpServers.metrics.address(),
      readiness: this.httpServers.readiness.address(),
      admin: this.httpServers.admin.address(),
    };
  }

  configDump(): unknown {
    const s = this.opts.state.current;
    return {
      gateway: this.opts.gateway,
      identity: formatIdentity(this.opts.identity),
      generation: this.opts.state.generation,
      services: s.services.map((x) => ({ name: x.name, namespace: x.namespace, hostname: x.hostname, vips: x.vips })),
      routes: s.routes,
      l7Policies: s.l7Policies.map((p) => ({ name: p.name, namespace: p.namespace, action: p.action, targets: p.targets })),
      pool: this.pool.stats(),
    };
  }

  /** Stops accepting tunnels, lets requests in flight finish until the deadline, then closes. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.readiness.require("draining");
      clearTimeout(this.certWatch);
      this.unsubscribe?.();
      await this.hbone.drain(this.opts.drainDeadlineMs ?? 5000);
      this.proxy.close();
      this.pool.close();
      this.certs.close();
      await Promise.all(Object.values(this.httpServers).map((s) => s.close()));
      this.opts.log.info("waypoint stopped");
    })();
    return this.stopping;
  }
}
