import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { createRootCa, silentLogger } from "../../shared/index.ts";
import { CertManager, type WorkloadCert } from "../identity/cert-manager.ts";
import { FileCaClient } from "../identity/file-ca.ts";
import { createHboneTlsServer, refreshHboneCert } from "./tls-server.ts";

const server = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "httpbin" };
const client = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };
const managers: CertManager[] = [];
const servers: tls.Server[] = [];

afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const m of managers.splice(0)) m.close();
});

async function issuer(): Promise<CertManager> {
  const m = new CertManager({ ca: FileCaClient.fromMaterial(await createRootCa({ trustDomain: "cluster.local" })), ttlSeconds: 3600, log: silentLogger() });
  managers.push(m);
  return m;
}

async function serve(cert: WorkloadCert): Promise<{ srv: tls.Server; port: number }> {
  const srv = createHboneTlsServer(cert);
  servers.push(srv);
  // Only a connection the server accepted gets this byte: a refused client may see a bare close.
  srv.on("secureConnection", (s) => s.end("+"));
  srv.on("tlsClientError", () => {});
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  return { srv, port: (srv.address() as AddressInfo).port };
}

/** Resolves with the negotiated details, or the handshake's error message. */
function dial(port: number, opts: tls.ConnectionOptions): Promise<{ alpn: string | false; serial: string } | string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, ALPNProtocols: ["h2"], checkServerIdentity: () => undefined, ...opts });
    s.once("secureConnect", () => {
      const result = { alpn: s.alpnProtocol ?? false, serial: s.getPeerCertificate().serialNumber };
      // TLS 1.3 reports a rejected client certificate after the client's handshake completes: read on.
      let data = "";
      s.on("data", (d: Buffer) => (data += d.toString()));
      s.once("error", (err) => resolve(err.message));
      s.once("end", () => resolve(data === "+" ? result : "closed by the server"));
    });
    s.once("error", (err) => resolve(err.message));
  });
}

const creds = (c: WorkloadCert) => ({ cert: c.chainPem.join(""), key: c.keyPem, ca: c.roots });

describe("HBONE TLS server", () => {
  it("accepts a TLS 1.3 h2 client whose certificate chains to the mesh roots", async () => {
    const ca = await issuer();
    const { port } = await serve(await ca.get(server));
    const got = await dial(port, creds(await ca.get(client)));
    expect(got).toMatchObject({ alpn: "h2" });
  });

  it("refuses a client without a certificate, with one from another CA, and below TLS 1.3", async () => {
    const ca = await issuer();
    const { port } = await serve(await ca.get(server));
    const roots = (await ca.get(client)).roots;
    expect(typeof (await dial(port, { ca: roots }))).toBe("string");
    const foreign = await (await issuer()).get(client);
    expect(typeof (await dial(port, { ...creds(foreign), ca: roots }))).toBe("string");
    expect(await dial(port, { ...creds(await ca.get(client)), maxVersion: "TLSv1.2" })).toMatch(/version|protocol/i);
  });

  it("serves a renewed certificate to new connections, and keeps the context when the serial is unchanged", async () => {
    const ca = await issuer();
    const first = await ca.get(server);
    const { srv, port } = await serve(first);
    const c = creds(await ca.get(client));
    expect(refreshHboneCert(srv, first.serial, first)).toBe(first.serial);
    expect(await dial(port, c)).toMatchObject({ serial: first.serial.toUpperCase() });
    const other = await issuer();
    const renewed = { ...(await other.get(server)), roots: first.roots };
    // The renewed leaf comes from another root here; only the served chain matters for the client's view.
    expect(refreshHboneCert(srv, first.serial, renewed)).toBe(renewed.serial);
    const seen = await dial(port, { ...c, ca: [...first.roots, ...(await other.get(client)).roots] });
    expect(seen).toMatchObject({ serial: renewed.serial.toUpperCase() });
  });
});
