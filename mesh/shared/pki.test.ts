import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { certValidity, createCsr, createRootCa, inspectCsr, signWorkloadCert } from "./pki.ts";
import { isMeshError } from "./errors.ts";

const dir = mkdtempSync(join(tmpdir(), "al-pki-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const id = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };

describe("pki", () => {
  it("issues a chain that openssl verifies, with the SPIFFE URI SAN and both TLS usages", async () => {
    const ca = await createRootCa({ trustDomain: "cluster.local" });
    const { csrPem } = await createCsr(id);
    const issued = await signWorkloadCert({ ca, csrPem, identity: id, ttlSeconds: 3600 });
    expect(issued.chainPem).toHaveLength(2);
    writeFileSync(join(dir, "root.pem"), ca.rootPem);
    writeFileSync(join(dir, "leaf.pem"), issued.chainPem[0]!);
    const out = execFileSync("openssl", ["verify", "-CAfile", join(dir, "root.pem"), "-purpose", "sslclient", join(dir, "leaf.pem")]);
    expect(out.toString()).toContain("OK");
    execFileSync("openssl", ["verify", "-CAfile", join(dir, "root.pem"), "-purpose", "sslserver", join(dir, "leaf.pem")]);
    const leaf = new X509Certificate(issued.chainPem[0]!);
    expect(leaf.subjectAltName).toBe("URI:spiffe://cluster.local/ns/demo/sa/sleep");
    const v = certValidity(issued.chainPem[0]!);
    expect(v.notAfter.getTime() - v.notBefore.getTime()).toBeGreaterThan(3600_000);
    expect(v.notAfter.getTime() - v.notBefore.getTime()).toBeLessThan(3600_000 + 120_000);
  });

  it("gives every certificate its own positive 16-byte serial, across refills of the random pool", async () => {
    const ca = await createRootCa({ trustDomain: "cluster.local" });
    const { csrPem } = await createCsr(id);
    const serials = new Set<string>();
    // 300 certificates: more than one pool of 256 serials.
    for (let i = 0; i < 300; i++) {
      const issued = await signWorkloadCert({ ca, csrPem, identity: id, ttlSeconds: 60 });
      const serial = new X509Certificate(issued.chainPem[0]!).serialNumber;
      expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/);
      expect(Number.parseInt(serial.slice(0, 2), 16)).toBeGreaterThan(0);
      serials.add(serial);
    }
    expect(serials.size).toBe(300);
  });

  it("refuses a CSR for another identity than the one allowed", async () => {
    const ca = await createRootCa({ trustDomain: "cluster.local" });
    const { csrPem } = await createCsr(id);
    const err = await signWorkloadCert({ ca, csrPem, identity: { ...id, serviceAccount: "admin" }, ttlSeconds: 60 }).catch((e) => e);
    expect(isMeshError(err, "AL_ERR_CA")).toBe(true);
    expect(String(err.message)).toContain("may only have spiffe://cluster.local/ns/demo/sa/admin");
  });

  it("rejects garbage and CSRs without a SPIFFE SAN with a clear error", async () => {
    await expect(inspectCsr("not a csr")).rejects.toThrow(/not a valid PEM PKCS#10/);
  });
});

describe("CSR checks", () => {
  it("refuses a CSR with two URI SANs and one whose signature does not verify", async () => {
    const x509 = await import("@peculiar/x509");
    const { webcrypto } = await import("node:crypto");
    const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as never;
    const two = await x509.Pkcs10CertificateRequestGenerator.create({
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: "url", value: "spiffe://cluster.local/ns/a/sa/b" },
          { type: "url", value: "spiffe://cluster.local/ns/kube-system/sa/admin" },
        ]),
      ],
    });
    await expect(inspectCsr(two.toString("pem"))).rejects.toThrow(/exactly one URI SAN, found 2/);
    const { csrPem } = await createCsr(id);
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5] = der[der.length - 5]! ^ 0xff; // flip bits inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(inspectCsr(tampered)).rejects.toThrow(/signature does not verify|cannot be read/);
  });
});

describe("CA key", () => {
  it("must be ECDSA P-256; an RSA CA is refused with what to change", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const ca = await createRootCa({ trustDomain: "cluster.local" });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const { csrPem } = await createCsr(id);
    await expect(signWorkloadCert({ ca: { ...ca, keyPem: rsa }, csrPem, identity: id, ttlSeconds: 60 })).rejects.toThrow(
      /CA key must be ECDSA P-256, got rsa 2048/,
    );
  });
});
