// The proxy core ztunnel and the waypoint share, and their only way in: what a proxy knows (state, from
// the control plane's stream or a local file), who it is (certificates from the CA), how it talks HBONE
// (client pool, server guard, peer verification, headers), the network it dials, how it is tuned and
// bounded, and its admin, metrics and readiness endpoints. Neither proxy imports the other.
export * from "./state/types.ts";
export { parseLocalConfig, convertConfig, toResources, type ParsedConfig, type Rejection } from "./state/local-config.ts";
export { ProxyState, type Endpoint, type ProxyDelta } from "./state/proxy-state.ts";
export { StateStore, type StateListener } from "./state/store.ts";
export { LocalConfigSource } from "./state/file-source.ts";
export type { ConfigSource } from "./state/config-source.ts";
export { configStream, XdsClient, WAYPOINT_TYPES, ZTUNNEL_TYPES, type ConfigStream } from "./xds/client.ts";
export { callStream, DEFAULT_MAX_RESPONSE_BYTES, type StreamCall, type StreamEndpoint } from "./xds/stream-client.ts";
export { HeldConfig } from "./xds/held-config.ts";
export { controlPlaneEndpoint, controlPlaneTransport, type ControlPlaneConnection } from "./xds/transport.ts";
export type { CaClient, CertificateRequest } from "./identity/ca-client.ts";
export { FileCaClient } from "./identity/file-ca.ts";
export { GrpcCaClient } from "./identity/grpc-ca.ts";
export { CertManager, type WorkloadCert, type CertManagerOptions } from "./identity/cert-manager.ts";
export { identityOf } from "./identity/workload.ts";
export * from "./h2/index.ts";
export { HbonePool, type HboneRequest, type PoolContext } from "./hbone/hbone-pool.ts";
export { HboneGuard, limitReporter, peerKeyOf, type GuardDeps } from "./hbone/hbone-guard.ts";
export { verifyHbonePeer } from "./hbone/peer.ts";
export { buildBaggage, buildForwarded, parseForwardedFor } from "./hbone/headers.ts";
export { KernelNetwork, connectTcp, type Network } from "./net/network.ts";
export { originalDst } from "./net/orig-dst.ts";
export { DEFAULT_TUNING, type LimitHit, type LimitKind, type ProxyTuning } from "./tuning.ts";
export * from "./config-sources.ts";
export { adminHandler, metricsHandler, readinessHandler, type AdminDeps } from "./admin/handlers.ts";
export { createHboneTlsServer, hboneSecureContext, refreshHboneCert } from "./hbone/tls-server.ts";
export { openSources, type OpenedSources, type SourceIdentity } from "./open-sources.ts";
export { efficientUntilConfigured, StartupEfficiency, startupEfficiencyWanted, type StartupEfficiencyDeps } from "./startup-efficiency.ts";
