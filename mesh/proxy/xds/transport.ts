// How a proxy reaches the control plane: gRPC over TLS (HTTP/2), the server verified by its SPIFFE
// identity against the mesh trust bundle, and a bearer token (re-read for every call, so a rotated
// token file is picked up) in the authorization metadata. The config stream is made with our own
// client (stream-client.ts), certificate requests with connect's (grpc-ca.ts): both from one endpoint.
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import { uriSans } from "../../shared/index.ts";
import type { StreamEndpoint } from "./stream-client.ts";

export interface ControlPlaneConnection {
  /** https://host:15012 */
  address: string;
  /** PEM file with the trust bundle (the mesh root) the control plane's certificate chains to. */
  rootCertFile: string;
  /** The SPIFFE identity the control plane must present. */
  expectedIdentity: string;
  /** File holding the bearer token. */
  tokenFile: string;
}

/** The control plane as a gRPC endpoint: its address, how it is verified, and the token for each call. */
export function controlPlaneEndpoint(ep: ControlPlaneConnection): Required<Pick<StreamEndpoint, "address" | "tls" | "headers">> {
  let ca: string;
  try {
    ca = readFileSync(ep.rootCertFile, "utf8");
  } catch (err) {
    throw new MeshError(
      ErrorCode.Config,
      `cannot read the control plane's root certificate ${ep.rootCertFile}: is the control plane running and ROOT_CERT right?`,
      { cause: err },
    );
  }
  return {
    address: ep.address,
    tls: {
      ca,
      minVersion: "TLSv1.3",
      // Identity, not hostname: the control plane is reached by IP in the single-machine cluster.
      checkServerIdentity: (_host, cert) => {
        const sans = uriSans(cert.subjectaltname);
        return sans.includes(ep.expectedIdentity)
          ? undefined
          : new Error(`control plane presented ${sans.join(", ") || "no SPIFFE identity"}, expected ${ep.expectedIdentity}`);
      },
    },
    headers: async () => {
      const token = (
        await readFile(ep.tokenFile, "utf8").catch((err: unknown) => {
          throw new MeshError(ErrorCode.Config, `cannot read the token file ${ep.tokenFile}`, { cause: err });
        })
      ).trim();
      return { authorization: `Bearer ${token}` };
    },
  };
}

/** A connect transport to the control plane (the certificate service's client). */
export function controlPlaneTransport(ep: ControlPlaneConnection): Transport {
  const endpoint = controlPlaneEndpoint(ep);
  return createGrpcTransport({
    baseUrl: endpoint.address,
    nodeOptions: endpoint.tls,
    interceptors: [
      (next) => async (req) => {
        for (const [k, v] of Object.entries(await endpoint.headers())) req.header.set(k, v);
        return next(req);
      },
    ],
  });
}
