// Outbound capture (15001): every TCP connection an enrolled pod opens lands here. Mesh destinations
// get HBONE to the destination pod's ztunnel; others get plain TCP; ztunnel's own ports are refused.
import net from "node:net";
import type { Duplex } from "node:stream";
import { formatAddr, normalizeIp, type SockAddr } from "../../shared/addr.ts";
import { describeError, ErrorCode, isMeshError, MeshError } from "../../shared/errors.ts";
import type { Server } from "../../shared/lifecycle.ts";
import type { ResponseFlag } from "../telemetry/metrics.ts";
import { identityOf, type ProxyContext } from "./context.ts";
import { buildBaggage, buildForwarded } from "./headers.ts";
import type { HbonePool } from "./hbone-pool.ts";
import { planOutbound } from "./outbound-plan.ts";
import { ConnectionRecord } from "./record.ts";
import { relay } from "./relay.ts";

function flagFor(err: unknown): ResponseFlag {
  if (isMeshError(err, ErrorCode.PolicyDenied)) return "DENY";
  if (isMeshError(err, ErrorCode.Tls)) return "TLS_FAILURE";
  if (isMeshError(err, ErrorCode.Identity)) return "IDENTITY_ERROR";
  return "CONNECT";
}

export class OutboundServer implements Server {
  private readonly ctx: ProxyContext;
  private readonly pool: HbonePool;
  private readonly server: net.Server;
  private readonly listen: SockAddr;
  private readonly pick: (n: number) => number;

  constructor(ctx: ProxyContext, pool: HbonePool, listen: SockAddr, pick: (n: number) => number = (n) => Math.floor(Math.random() * n)) {
    this.ctx = ctx;
    this.pool = pool;
    this.listen = listen;
    this.pick = pick;
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => void this.accept(s));
    this.server.on("error", (err) => ctx.log.error({ err: describeError(err) }, "outbound listener error"));
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.listen.ip, port: this.listen.port }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  address(): SockAddr {
    const a = this.server.address() as net.AddressInfo;
    return { ip: a.address, port: a.port };
  }

  private async accept(client: net.Socket): Promise<void> {
    const ctx = this.ctx;
    client.on("error", () => undefined);
    const srcAddr = { ip: normalizeIp(client.remoteAddress ?? ""), port: client.remotePort ?? 0 };
    let dst: SockAddr;
    try {
      dst = await ctx.network.originalDst(client);
    } catch (err) {
      ctx.log.warn({ err: describeError(err), "src.addr": formatAddr(srcAddr) }, "outbound connection without a destination");
      client.destroy();
      return;
    }
    const state = ctx.state.current;
    const source = state.workloadByIp(srcAddr.ip);
    const plan = planOutbound({ state, source, dst, illegalPorts: ctx.illegalPorts, hboneTarget: (ip) => ctx.network.hboneTarget(ip), pick: this.pick });
    const record = new ConnectionRecord(ctx, {
      direction: "outbound",
      srcAddr: formatAddr(srcAddr),
      dstAddr: formatAddr(dst),
      ...(source ? { srcWorkload: source, srcIdentity: identityOf(source) } : {}),
      ...(plan.kind === "hbone" || plan.kind === "direct" ? { dstWorkload: plan.workload } : {}),
      ...(plan.kind === "hbone" ? { dstIdentity: plan.identity, hboneAddr: formatAddr(plan.target) } : {}),
      ...(plan.kind !== "passthrough" && plan.service ? { dstService: plan.service } : {}),
      mtls: plan.kind === "hbone",
    });
    if (plan.kind === "refuse") {
      record.fail(plan.reason === "no-healthy-upstream" ? "NO_HEALTHY_UPSTREAM" : "-", new MeshError(plan.reason === "self-call" ? ErrorCode.SelfCall : ErrorCode.NoHealthyUpstream, plan.message));
      client.resetAndDestroy();
      return;
    }
    let upstream: Duplex;
    try {
      if (plan.kind === "hbone") {
        upstream = await this.pool.open({
          src: identityOf(source!),
          dst: plan.identity,
          target: plan.target,
          authority: formatAddr(plan.authority),
          headers: { forwarded: buildForwarded(srcAddr, plan.service), baggage: buildBaggage(source!, ctx.clusterId) },
        });
      } else {
        upstream = await ctx.network.connect(plan.target, ctx.tuning.connectTimeoutMs);
      }
    } catch (err) {
      record.fail(flagFor(err), err);
      client.resetAndDestroy();
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      record.fail("-", new MeshError(ErrorCode.BadRequest, "client went away before the upstream connected"));
      return;
    }
    record.open();
    const r = relay(client, upstream);
    const untrack = ctx.tracker.add({ id: ctx.tracker.newId(), direction: "outbound", close: (reason) => r.abort(reason) });
    const result = await r.done;
    untrack();
    record.close(result);
  }

  stopAccepting(): void {
    this.server.close();
  }

  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    await this.ctx.tracker.waitIdle(deadlineMs);
  }

  async close(): Promise<void> {
    this.server.close();
  }
}
