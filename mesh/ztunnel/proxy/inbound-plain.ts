// Inbound plaintext capture (15006): TCP to an enrolled pod from outside the mesh. Policy is evaluated
// with no source identity, so identity-requiring ALLOWs and PeerAuthentication STRICT deny it.
import net from "node:net";
import { formatAddr, normalizeIp, type SockAddr } from "../../shared/addr.ts";
import { describeError, ErrorCode, MeshError } from "../../shared/errors.ts";
import type { Server } from "../../shared/lifecycle.ts";
import { evaluate } from "../rbac/evaluate.ts";
import { identityOf, type ProxyContext } from "./context.ts";
import { ConnectionRecord } from "./record.ts";
import { relay } from "./relay.ts";

export class InboundPlaintextServer implements Server {
  private readonly ctx: ProxyContext;
  private readonly server: net.Server;
  private readonly listen: SockAddr;

  constructor(ctx: ProxyContext, listen: SockAddr) {
    this.ctx = ctx;
    this.listen = listen;
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => void this.accept(s));
    this.server.on("error", (err) => ctx.log.error({ err: describeError(err) }, "inbound plaintext listener error"));
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
      ctx.log.warn({ err: describeError(err) }, "inbound plaintext connection without a destination");
      client.destroy();
      return;
    }
    const state = ctx.state.current;
    const workload = state.workloadByIp(dst.ip);
    const record = new ConnectionRecord(ctx, {
      direction: "inbound",
      srcAddr: formatAddr(srcAddr),
      dstAddr: formatAddr(dst),
      ...(state.workloadByIp(srcAddr.ip) ? { srcWorkload: state.workloadByIp(srcAddr.ip)! } : {}),
      ...(workload ? { dstWorkload: workload, dstIdentity: identityOf(workload) } : {}),
      ...(workload && state.servicesOf(workload)[0] ? { dstService: state.servicesOf(workload)[0]! } : {}),
      mtls: false,
    });
    const refuse = (err: MeshError, flag: "-" | "DENY") => {
      record.fail(flag, err);
      client.resetAndDestroy();
    };
    if (ctx.illegalPorts.has(dst.port)) return refuse(new MeshError(ErrorCode.SelfCall, `port ${dst.port} is a ztunnel port`), "-");
    if (!workload || workload.node !== ctx.node) {
      return refuse(new MeshError(ErrorCode.BadRequest, `${dst.ip} is not a workload on node ${ctx.node}`), "-");
    }
    const facts = { srcIdentity: undefined, srcIp: srcAddr.ip, dstIp: dst.ip, dstPort: dst.port };
    const decision = evaluate(state.policiesFor(workload), facts);
    if (!decision.allowed) {
      return refuse(new MeshError(ErrorCode.PolicyDenied, `plaintext connection rejected by policy${decision.policy ? ` ${decision.policy}` : " (no ALLOW policy matched)"}`), "DENY");
    }
    let upstream: net.Socket;
    try {
      upstream = await ctx.network.connect(dst, ctx.tuning.connectTimeoutMs);
    } catch (err) {
      record.fail("CONNECT", err);
      client.resetAndDestroy();
      return;
    }
    record.open();
    const r = relay(client, upstream);
    const untrack = ctx.tracker.add({ id: ctx.tracker.newId(), direction: "inbound", facts, close: (reason) => r.abort(reason) });
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
