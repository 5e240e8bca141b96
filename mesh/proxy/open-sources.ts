// Turns the resolved ProxySources (config-sources.ts) into the objects a proxy runs: the config source
// feeding its store and the CA client it asks for certificates. ztunnel and the waypoint differ only in
// how they name themselves to the control plane and which resource types they subscribe to.
import type { Logger } from "../shared/index.ts";
import type { ProxySources } from "./config-sources.ts";
import type { CaClient } from "./identity/ca-client.ts";
import { FileCaClient } from "./identity/file-ca.ts";
import { GrpcCaClient } from "./identity/grpc-ca.ts";
import type { ConfigSource } from "./state/config-source.ts";
import { LocalConfigSource } from "./state/file-source.ts";
import type { StateStore } from "./state/store.ts";
import { configStream, XdsClient } from "./xds/client.ts";
import { controlPlaneEndpoint, controlPlaneTransport, type ControlPlaneConnection } from "./xds/transport.ts";

export interface SourceIdentity {
  /** The node (ztunnel) or gateway (waypoint) this proxy serves, for logs and the stream's node. */
  node: string;
  /** ztunnel~<node> (default), sidecar~<ip> or waypoint~<ns>/<name>. */
  nodeId?: string;
  /** Resource types to subscribe to; the XdsClient's default is ztunnel's. */
  types?: readonly string[];
  clusterId: string;
  trustDomain: string;
}

export interface OpenedSources {
  source: ConfigSource;
  ca: CaClient;
}

/** Builds (does not start) the config source and CA client; a file CA directory is created if missing. */
export async function openSources(sources: ProxySources, who: SourceIdentity, store: StateStore, log: Logger): Promise<OpenedSources> {
  const cp = sources.controlPlane;
  const connection = (address: string): ControlPlaneConnection => {
    // resolveSources only leaves controlPlane out when neither XDS_ADDRESS nor CA_ADDRESS is set.
    if (!cp) throw new Error(`control plane ${address} configured without ROOT_CERT and TOKEN_FILE`);
    return { address, rootCertFile: cp.rootCert, tokenFile: cp.tokenFile, expectedIdentity: cp.identity };
  };
  const source: ConfigSource =
    sources.config.kind === "xds"
      ? new XdsClient({
          stream: configStream(controlPlaneEndpoint(connection(sources.config.address))),
          node: who.node,
          clusterId: who.clusterId,
          store,
          log,
          ...(who.nodeId ? { nodeId: who.nodeId } : {}),
          ...(who.types ? { types: who.types } : {}),
        })
      : new LocalConfigSource(sources.config.path, store, log);
  const ca: CaClient =
    sources.ca.kind === "grpc"
      ? new GrpcCaClient(controlPlaneTransport(connection(sources.ca.address)), cp!.rootCert)
      : await FileCaClient.open(sources.ca.path, who.trustDomain);
  return { source, ca };
}
