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
