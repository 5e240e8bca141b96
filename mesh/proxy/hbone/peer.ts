// The checks every HBONE server makes once tls.Server has accepted a client's chain: ALPN h2 and
// exactly one SPIFFE identity in our trust domain. Shared by ztunnel's and the waypoint's listeners.
import type tls from "node:tls";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import { formatIdentity, tryParseIdentity, uriSans, type Identity } from "../../shared/index.ts";

export function verifyHbonePeer(s: tls.TLSSocket, trustDomain: string): Identity {
  if (!s.authorized) throw new MeshError(ErrorCode.Tls, `client certificate not accepted: ${String(s.authorizationError ?? "none presented")}`);
  if (s.alpnProtocol !== "h2") throw new MeshError(ErrorCode.Tls, `ALPN must be h2, peer negotiated ${String(s.alpnProtocol)}`);
  const sans = uriSans(s.getPeerX509Certificate()?.subjectAltName);
  const ids = sans.map(tryParseIdentity).filter((x): x is Identity => x !== undefined);
  if (ids.length !== 1) throw new MeshError(ErrorCode.Identity, `client certificate must carry one SPIFFE identity, found: ${sans.join(", ") || "none"}`);
  if (ids[0]!.trustDomain !== trustDomain) {
    throw new MeshError(ErrorCode.Identity, `client identity ${formatIdentity(ids[0]!)} is not in trust domain ${trustDomain}`);
  }
  return ids[0]!;
}
