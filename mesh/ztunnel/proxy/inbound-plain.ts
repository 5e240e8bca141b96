// Inbound plaintext capture (15006): TCP to an enrolled pod from outside the mesh. Policy is evaluated
// with no source identity, so identity-requiring ALLOWs and PeerAuthentication STRICT deny it.
import type net from "node:net";
import { formatAddr, type SockAddr } from "../../shared/index.ts";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import { evaluate } from "../rbac/evaluate.ts";
import { type ProxyContext } from "./context.ts";
import { identityOf } from "../../proxy/index.ts";
import { CaptureListener } from "./capture-listener.ts";
import { ConnectionRecord } from "./record.ts";

export class InboundPlaintextServer extends CaptureListener {
  constructor(ctx: ProxyContext, at: SockAddr) {
    super(ctx, at, "inbound plaintext");
  }

  protected async handle(client: net.Socket, src: SockAddr, dst: SockAddr): Promise<void> {
    const ctx = this.ctx;
    const state = ctx.state.current;
    const workload = state.workloadByIp(dst.ip);
    const dstService = workload ? state.servicesOf(workload)[0] : undefined;
    const srcWorkload = state.workloadByIp(src.ip);
    const record = new ConnectionRecord(ctx, {
      direction: "inbound",
      srcAddr: formatAddr(src),
      dstAddr: formatAddr(dst),
      ...(srcWorkload ? { srcWorkload } : {}),
      ...(workload ? { dstWorkload: workload, dstIdentity: identityOf(workload) } : {}),
      ...(dstService ? { dstService } : {}),
      mtls: false,
    });
    const refuse = (err: MeshError, flag: "-" | "DENY") => {
      record.fail(flag, err);
      client.resetAndDestroy();
    };
    if (ctx.illegalPorts.has(dst.port)) return refuse(new MeshError(ErrorCode.SelfCall, `port ${dst.port} is a ztunnel port`), "-");
    if (!workload || !ctx.serves(workload)) {
      return refuse(new MeshError(ErrorCode.BadRequest, `${dst.ip} is not a workload this proxy serves (node ${ctx.node})`), "-");
    }
    const facts = { srcIdentity: undefined, srcIp: src.ip, dstIp: dst.ip, dstPort: dst.port };
    const decision = evaluate(state.policiesFor(workload), facts);
    if (!decision.allowed) {
      return refuse(
        new MeshError(
          ErrorCode.PolicyDenied,
          `plaintext connection rejected by policy${decision.policy ? ` ${decision.policy}` : " (no ALLOW policy matched)"}`,
        ),
        "DENY",
      );
    }
    let upstream: net.Socket;
    try {
      upstream = await ctx.network.connect(dst, ctx.tuning.connectTimeoutMs);
    } catch (err) {
      record.fail("CONNECT", err);
      client.resetAndDestroy();
      return;
    }
    await record.relay(client, upstream, facts);
  }
}
