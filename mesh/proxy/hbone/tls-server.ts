// The TLS side of an HBONE listener, the same for ztunnel and the waypoint: TLS 1.3 only, ALPN h2, a
// client certificate required and chained to the mesh roots. The caller feeds accepted sockets in by
// hand (HBONE sends no SNI, so it picks the certificate first) and verifies the peer's SPIFFE identity.
import * as tls from "node:tls";
import type { WorkloadCert } from "../identity/cert-manager.ts";

/** What tls.Server needs from a workload certificate: the leaf and intermediates, the key, the roots. */
export function hboneSecureContext(cert: WorkloadCert): Pick<tls.SecureContextOptions, "cert" | "key" | "ca"> {
  return { cert: cert.chainPem.filter((c) => !cert.roots.includes(c)).join(""), key: cert.keyPem, ca: cert.roots };
}

/**
 * A tls.Server for HBONE serving `cert`. Its own handshake timeout is off: the HboneGuard's deadline
 * covers the whole handshake and destroys the socket, where tls.Server's would only report it.
 */
export function createHboneTlsServer(cert: WorkloadCert): tls.Server {
  return tls.createServer({
    ...hboneSecureContext(cert),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    ALPNProtocols: ["h2"],
    handshakeTimeout: 0,
  });
}

/** Keeps a server on the current certificate; returns the serial it now serves. */
export function refreshHboneCert(server: tls.Server, servedSerial: string, cert: WorkloadCert): string {
  if (servedSerial !== cert.serial) server.setSecureContext(hboneSecureContext(cert));
  return cert.serial;
}
