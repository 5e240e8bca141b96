// The CA's DER path against independent implementations: @peculiar's ASN.1 structures (what the CA used
// before; byte-for-byte the same certificate), openssl (CSRs it makes are read; certificates we make
// verify and print), and a differential fuzz of the CSR reader.
import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as cryptoSign, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import * as asn from "@peculiar/asn1-x509";
import { afterAll, describe, expect, it } from "vitest";
import { assembleCertificate, buildTbs, certificateSubject, readCsrDer, requestedUris, uriSanExtension } from "./cert-der.ts";
import { decodeOid, DerError, encodeOid, encodeTime, readTlv, tlv } from "./der.ts";
import { createCsr, createRootCa, inspectCsr, signWorkloadCert } from "./pki.ts";

const dir = mkdtempSync(join(tmpdir(), "al-der-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pemToDer = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
const id = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };
const URI = "spiffe://cluster.local/ns/demo/sa/sleep";

describe("DER primitives", () => {
  it("reads definite lengths in short and long form and refuses what DER forbids", () => {
    expect(readTlv(Buffer.from([0x04, 0x02, 1, 2])).value).toEqual(Buffer.from([1, 2]));
    const long = tlv(0x04, Buffer.alloc(300, 7));
    expect(long.subarray(0, 4)).toEqual(Buffer.from([0x04, 0x82, 0x01, 0x2c]));
    expect(readTlv(long).value.length).toBe(300);
    const bad: Array<[number[], RegExp]> = [
      [[0x30, 0x80, 0, 0], /indefinite/],
      [[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], /shortest form/],
      [[0x04, 0x82, 0x00, 0x90], /shortest form/],
      [[0x04, 0x05, 1, 2], /runs past/],
      [[0x1f, 0x81, 0x01, 0x00], /multi-byte tag/],
      [[0x04], /truncated/],
      [[0x04, 0x84, 1, 1, 1, 1], /length of 4 bytes/],
    ];
    for (const [bytes, msg] of bad) expect(() => readTlv(Buffer.from(bytes))).toThrow(msg);
    // A child may not run past its parent even when the buffer goes on.
    expect(() => readTlv(Buffer.from([0x30, 0x02, 0x04, 0x05, 1, 2, 3, 4, 5]), 2, 4)).toThrow(/runs past/);
  });

  it("round-trips object identifiers and refuses malformed ones", () => {
    for (const oid of ["1.2.840.10045.4.3.2", "2.5.29.17", "1.2.840.113549.1.9.14", "2.999.1", "0.9.2342.19200300.100.1.25"]) {
      expect(decodeOid(readTlv(encodeOid(oid)).value)).toBe(oid);
    }
    expect(encodeOid("1.2.840.10045.4.3.2").toString("hex")).toBe("06082a8648ce3d040302");
    expect(() => decodeOid(Buffer.from([0x2a, 0x86]))).toThrow(/ends inside/);
    expect(() => decodeOid(Buffer.from([0x80, 0x01]))).toThrow(/leading zero/);
    expect(() => decodeOid(Buffer.alloc(0))).toThrow(DerError);
  });

  it("writes UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280)", () => {
    expect(encodeTime(new Date("2049-12-31T23:59:59Z")).toString("latin1")).toBe("\x17\x0d491231235959Z");
    expect(encodeTime(new Date("2050-01-01T00:00:00Z")).toString("latin1")).toBe("\x18\x0f20500101000000Z");
  });
});

/** The certificate as the CA built it before, with @peculiar/asn1-x509: the byte-level oracle. */
function oracleCertificate(o: { caCertPem: string; caKeyPem: string; serial: Uint8Array; notBefore: Date; notAfter: Date; spki: Buffer; uri: string }): Buffer {
  const ext = (extnID: string, critical: boolean, v: unknown) => new asn.Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(v)) });
  const ca = AsnConvert.parse(pemToDer(o.caCertPem), asn.Certificate);
  const ski = ca.tbsCertificate.extensions?.find((e) => e.extnID === asn.id_ce_subjectKeyIdentifier);
  const keyId = ski ? AsnConvert.parse(ski.extnValue, asn.SubjectKeyIdentifier) : undefined;
  const alg = new asn.AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" });
  const tbs = new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: o.serial.slice().buffer,
    signature: alg,
    issuer: ca.tbsCertificate.subject,
    subject: new asn.Name(),
    validity: new asn.Validity({ notBefore: o.notBefore, notAfter: o.notAfter }),
    subjectPublicKeyInfo: AsnConvert.parse(o.spki, asn.SubjectPublicKeyInfo),
    extensions: new asn.Extensions([
      ext(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false })),
      ext(asn.id_ce_keyUsage, true, new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature | asn.KeyUsageFlags.keyEncipherment)),
      ext(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage([asn.id_kp_serverAuth, asn.id_kp_clientAuth])),
      ...(keyId ? [ext(asn.id_ce_authorityKeyIdentifier, false, new asn.AuthorityKeyIdentifier({ keyIdentifier: keyId }))] : []),
      ext(asn.id_ce_subjectAltName, true, new asn.SubjectAlternativeName([new asn.GeneralName({ uniformResourceIdentifier: o.uri })])),
    ]),
  });
  return Buffer.from(AsnConvert.serialize(tbs));
}

describe("workload certificates from DER templates", () => {
  it("are byte for byte what @peculiar/asn1-x509 encodes, on both sides of 2050", async () => {
    const ca = await createRootCa({ trustDomain: "cluster.local" });
    const { csrPem } = await createCsr(id);
    const spki = readCsrDer(pemToDer(csrPem)).spki;
    const issued = await signWorkloadCert({ ca, csrPem, identity: id, ttlSeconds: 3600 });
    // The CA's constant extensions, taken from a certificate it issued (the template's own output).
    const leaf = AsnConvert.parse(pemToDer(issued.chainPem[0]!), asn.Certificate);
    const constant = leaf.tbsCertificate.extensions!.filter((e) => e.extnID !== asn.id_ce_subjectAltName).map((e) => Buffer.from(AsnConvert.serialize(e)));
    for (const [nb, na] of [
      ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
      ["2049-12-31T12:00:00Z", "2050-01-01T12:00:00Z"],
    ]) {
      const serial = Uint8Array.from([0x4f, ...randomBytes(15)]);
      const o = { serial, notBefore: new Date(nb!), notAfter: new Date(na!), spki, uri: URI };
      const ours = buildTbs({ issuer: certificateSubject(pemToDer(ca.certPem)), extensions: constant }, o);
      expect(ours.toString("hex")).toBe(oracleCertificate({ ...o, caCertPem: ca.certPem, caKeyPem: ca.keyPem }).toString("hex"));
    }
  });

  it("verify with openssl against the root, carry the SAN, and match node's reading of them", async () => {
    const ca = await createRootCa({ trustDomain: "cluster.local" });
    const { csrPem } = await createCsr(id);
    const tbs = buildTbs(
      { issuer: certificateSubject(pemToDer(ca.certPem)), extensions: [] },
      {
        serial: Uint8Array.from([1, 2, 3]),
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3600_000),
        spki: readCsrDer(pemToDer(csrPem)).spki,
        uri: URI,
      },
    );
    const der = assembleCertificate(tbs, cryptoSign("sha256", tbs, { key: createPrivateKey(ca.keyPem), dsaEncoding: "der" }));
    const cert = new X509Certificate(der);
    expect(cert.subjectAltName).toBe(`URI:${URI}`);
    expect(cert.serialNumber).toBe("010203");
    writeFileSync(join(dir, "root.pem"), ca.rootPem);
    writeFileSync(join(dir, "leaf.der"), der);
    execFileSync("openssl", ["x509", "-inform", "DER", "-in", join(dir, "leaf.der"), "-out", join(dir, "leaf.pem")]);
    expect(execFileSync("openssl", ["verify", "-CAfile", join(dir, "root.pem"), join(dir, "leaf.pem")]).toString()).toContain("OK");
    expect(() => uriSanExtension("spiffe://ü")).toThrow(/IA5String/);
    expect(() =>
      buildTbs(
        { issuer: tlv(0x30), extensions: [] },
        { serial: Uint8Array.from([0x80]), notBefore: new Date(), notAfter: new Date(), spki: tlv(0x30), uri: URI },
      ),
    ).toThrow(/positive/);
  });
});

describe("reading CSRs", () => {
  it("reads what @peculiar/x509 and openssl write, as @peculiar/asn1-csr reads it", async () => {
    const ours = pemToDer((await createCsr(id)).csrPem);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    const opensslPem = execFileSync("openssl", [
      "req",
      "-new",
      "-key",
      join(dir, "key.pem"),
      "-subj",
      "/O=demo",
      "-addext",
      `subjectAltName=URI:${URI},DNS:sleep.demo`,
    ]).toString();
    for (const der of [ours, pemToDer(opensslPem)]) {
      const parts = readCsrDer(der);
      const oracle = AsnConvert.parse(der, CertificationRequest);
      expect(parts.spki).toEqual(Buffer.from(AsnConvert.serialize(oracle.certificationRequestInfo.subjectPKInfo)));
      expect(parts.info).toEqual(Buffer.from(oracle.certificationRequestInfoRaw!));
      expect(parts.signatureAlgorithm).toBe(oracle.signatureAlgorithm.algorithm);
      expect(parts.signature).toEqual(Buffer.from(oracle.signature));
      expect(requestedUris(parts)).toEqual([URI]);
      expect(createPublicKey({ key: parts.spki, format: "der", type: "spki" }).asymmetricKeyType).toBe("ec");
    }
    expect((await inspectCsr(opensslPem)).identity).toEqual(id);
  });

  it("survives any mutation of a CSR, and reads every one it accepts as @peculiar/asn1-csr does", async () => {
    const seed = pemToDer((await createCsr(id)).csrPem);
    const toPem = (d: Buffer) => `-----BEGIN CERTIFICATE REQUEST-----\n${d.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    let compared = 0;
    // Seeded, so a failure reproduces.
    let x = 0x9e3779b9;
    const noise = (n: number) =>
      Buffer.from(
        Array.from({ length: n }, () => {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          return x & 0xff;
        }),
      );
    for (let i = 0; i < 3000; i++) {
      const d = Buffer.from(seed);
      const kind = i % 4;
      if (kind === 0) d[i % d.length] = d[i % d.length]! ^ (1 << (i % 8));
      const mutated =
        kind === 1
          ? d.subarray(0, i % d.length)
          : kind === 2
            ? Buffer.concat([d.subarray(0, i % d.length), noise(1 + (i % 5)), d.subarray(i % d.length)])
            : kind === 3
              ? Buffer.concat([d.subarray(0, i % d.length), d.subarray((i % d.length) + 1 + (i % 3))])
              : d;
      let parts;
      try {
        parts = readCsrDer(mutated);
      } catch (err) {
        expect(err).toBeInstanceOf(DerError);
        continue;
      }
      // Where the library reads the same bytes, it reads the same parts: key, signed bytes, signature.
      let oracle: CertificationRequest;
      try {
        oracle = AsnConvert.parse(mutated, CertificationRequest);
      } catch {
        continue;
      }
      expect(parts.info).toEqual(Buffer.from(oracle.certificationRequestInfoRaw!));
      expect(parts.signature).toEqual(Buffer.from(oracle.signature));
      // The library re-encodes what it parsed; where that gives back the input (canonical DER), the key
      // it read must be the one we read. Elsewhere node's strict DER key import has the last word.
      if (!Buffer.from(AsnConvert.serialize(oracle.certificationRequestInfo)).equals(parts.info)) continue;
      compared++;
      expect(parts.spki).toEqual(Buffer.from(AsnConvert.serialize(oracle.certificationRequestInfo.subjectPKInfo)));
      // A mutation that still parses either breaks the signature or the CSR is refused cleanly.
      await inspectCsr(toPem(mutated)).then(
        (r) => expect(r.identity).toEqual(id),
        (err: Error) => expect(err.message).toMatch(/signature|SAN|extension|algorithm|spiffe|identity/i),
      );
    }
    expect(compared).toBeGreaterThan(100);
  }, 60_000);
});
