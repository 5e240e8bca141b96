// CertificateService.CreateCertificate: signs a workload certificate for a caller that may have it.
//   UNAUTHENTICATED   no or bad token
//   INVALID_ARGUMENT  malformed CSR (not PEM, bad signature, not exactly one SPIFFE URI SAN)
//   PERMISSION_DENIED identity in another trust domain, neither the caller's own nor on the caller's node
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CertificateRequestMessage as CertificateRequest, CertificateResponseSchema } from "../../api/index.ts";
import { describeError } from "../../shared/index.ts";
import { formatIdentity, type Identity } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import { inspectCsr, signWorkloadCert, type CaMaterial, type InspectedCsr } from "../../shared/index.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { ControlPlaneMetrics } from "../push/metrics.ts";

export interface CaPolicy {
  trustDomain: string;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  /** Is a workload with this identity scheduled on this node? */
  identityOnNode: (identity: Identity, node: string) => boolean;
}

export class CaService {
  private readonly ca: () => CaMaterial;
  private readonly auth: Authenticator;
  private readonly policy: CaPolicy;
  private readonly metrics: ControlPlaneMetrics;
  private readonly log: Logger;

  constructor(opts: { ca: () => CaMaterial; auth: Authenticator; policy: CaPolicy; metrics: ControlPlaneMetrics; log: Logger }) {
    this.ca = opts.ca;
    this.auth = opts.auth;
    this.policy = opts.policy;
    this.metrics = opts.metrics;
    this.log = opts.log;
  }

  /** `authorization` is the call's authorization header (a bearer token). */
  async createCertificate(req: CertificateRequest, authorization: string | undefined): Promise<MessageInitShape<typeof CertificateResponseSchema>> {
    const refuse = (code: Code, reason: string, message: string): never => {
      this.metrics.certsRefused.inc({ reason });
      throw new ConnectError(message, code);
    };
    let caller;
    try {
      caller = await this.auth.authenticate(authorization ?? null);
    } catch (err) {
      const msg = err instanceof ConnectError ? err.rawMessage : describeError(err);
      return refuse(Code.Unauthenticated, "unauthenticated", msg);
    }
    let inspected: InspectedCsr;
    try {
      inspected = await inspectCsr(req.csr);
    } catch (err) {
      return refuse(Code.InvalidArgument, "invalid_csr", `malformed CSR: ${describeError(err)}`);
    }
    const identity: Identity = inspected.identity;
    const id = formatIdentity(identity);
    if (identity.trustDomain !== this.policy.trustDomain) {
      return refuse(Code.PermissionDenied, "trust_domain", `${id} is not in trust domain ${this.policy.trustDomain}`);
    }
    const own = caller.identity !== undefined && caller.identity.namespace === identity.namespace && caller.identity.serviceAccount === identity.serviceAccount;
    if (!own && (caller.node === undefined || !this.policy.identityOnNode(identity, caller.node))) {
      this.log.warn({ caller: caller.subject, node: caller.node, identity: id }, "certificate refused: not the caller's identity nor on its node");
      return refuse(
        Code.PermissionDenied,
        "node_authorization",
        caller.node === undefined
          ? `${caller.subject} may only request its own identity, not ${id}`
          : `no workload with identity ${id} runs on node ${caller.node}`,
      );
    }
    const requested = Number(req.validityDuration);
    const ttl = requested > 0 ? Math.min(requested, this.policy.maxTtlSeconds) : this.policy.defaultTtlSeconds;
    try {
      const issued = await signWorkloadCert({ ca: this.ca(), csrPem: req.csr, identity, ttlSeconds: ttl, inspected });
      this.metrics.certsSigned.inc();
      this.log.debug({ caller: caller.subject, identity: id, ttl }, "certificate signed");
      return { certChain: issued.chainPem };
    } catch (err) {
      return refuse(Code.Internal, "signing_failed", `signing failed: ${describeError(err)}`);
    }
  }
}
