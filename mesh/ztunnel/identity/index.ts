// identity: workload certificates for the identities on this node, and the CA they come from.
export type { CaClient, CertificateRequest } from "./ca-client.ts";
export { FileCaClient } from "./file-ca.ts";
export { GrpcCaClient } from "./grpc-ca.ts";
export { CertManager, type WorkloadCert, type CertManagerOptions } from "./cert-manager.ts";
