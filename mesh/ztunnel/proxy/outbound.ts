// Outbound capture (15001): every TCP connection an enrolled pod opens lands here. Mesh destinations
// get HBONE to the destination pod's ztunnel; others get plain TCP; ztunnel's own ports are refused.
import type net from "node:net";
import type { Duplex } from "node:stream";
import { formatAddr, type SockAddr } from "../../shared/index.ts";
import { ErrorCode, isMeshError, MeshError } from "../../shared/index.ts";
import type { ResponseFlag } from "../telemetry/metrics.ts";
import { type ProxyContext } from "./context.ts";
import { identityOf } from "../../proxy/index.ts";
import { buildBaggage, buildForwarded } from "../../proxy/index.ts";
import { H2Stream, type HbonePool } from "../../proxy/index.ts";
import { planOutbound } from "./outbound-plan.ts";
import { CaptureListener } from "./capture-listener.ts";
import { ConnectionRecord } from "./record.ts";

function flagFor(err: unknown): ResponseFlag {
  if (isMeshError(err, ErrorCode.PolicyDenied)) return "DENY";
  if (isMeshError(err, ErrorCode.Tls)) return "TLS_FAILURE";
  if (isMeshError(err, ErrorCode.Identity)) return "IDENTITY_ERROR";
  return "CONNECT";
}

export class OutboundServer extends CaptureListener {
  private readonly pool: HbonePool;
  private readonly pick: (n: number) => number;

  constructor(ctx: ProxyContext, pool: HbonePool, at: SockAddr, pick: (n: number) => number = (n) => Math.floor(Math.random() * n)) {
    super(ctx, at, "outbound");
    this.pool = pool;
    this.pick = pick;
  }

  protected async handle(client: net.Socket, src: SockAddr, dst: SockAddr): Promise<void> {
    const ctx = this.ctx;
    const state = ctx.state.current;
    const source = state.workloadByIp(src.ip);
    const plan = planOutbound({ state, source, dst, illegalPorts: ctx.illegalPorts, hboneTarget: (ip) => ctx.network.hboneTarget(ip), pick: this.pick });
    const record = new ConnectionRecord(ctx, {
      direction: "outbound",
      srcAddr: formatAddr(src),
      dstAddr: formatAddr(dst),
      ...(source ? { srcWorkload: source, srcIdentity: identityOf(source) } : {}),
      ...(plan.kind === "hbone" || plan.kind === "direct" ? { dstWorkload: plan.workload } : {}),
      ...(plan.kind === "hbone" ? { dstIdentity: plan.identity, hboneAddr: formatAddr(plan.target) } : {}),
      ...(plan.kind !== "passthrough" && plan.service ? { dstService: plan.service } : {}),
      mtls: plan.kind === "hbone",
    });
    if (plan.kind === "refuse") {
      record.fail(
        plan.reason === "no-healthy-upstream" ? "NO_HEALTHY_UPSTREAM" : "-",
        new MeshError(plan.reason === "self-call" ? ErrorCode.SelfCall : ErrorCode.NoHealthyUpstream, plan.message),
      );
      client.resetAndDestroy();
      return;
    }
    let upstream: Duplex | H2Stream;
    try {
      if (plan.kind === "hbone") {
        upstream = await this.pool.open({
          src: identityOf(source!),
          dst: plan.identity,
          target: plan.target,
          authority: formatAddr(plan.authority),
          headers: { forwarded: buildForwarded(src, plan.service), baggage: buildBaggage(source!, ctx.clusterId) },
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
      if (upstream instanceof H2Stream) upstream.reset();
      else upstream.destroy();
      record.fail("-", new MeshError(ErrorCode.BadRequest, "client went away before the upstream connected"));
      return;
    }
    await record.relay(client, upstream);
  }
}
