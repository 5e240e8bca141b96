// How ztunnel obtains workload certificates. The control plane's gRPC CA arrives with the control-plane
// issue; until then (and for offline runs) a local file-backed CA implements the same interface.
import type { Identity } from "../../shared/index.ts";

export interface CertificateRequest {
  csrPem: string;
  /** The workload identity ztunnel asks for on a workload's behalf (Istio's ImpersonatedIdentity). */
  identity: Identity;
  ttlSeconds: number;
}

export interface CaClient {
  /** Returns the chain, leaf first, root last. */
  sign(req: CertificateRequest): Promise<string[]>;
  /** The trust anchors peers' certificates must chain to. */
  trustBundle(): Promise<string[]>;
}
