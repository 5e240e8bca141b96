// The CA's hot path in DER (der.ts): read a PKCS#10 CSR (RFC 2986) into the pieces the CA checks, and
// write a workload certificate (RFC 5280) from byte templates. Signing and signature checks are
// node:crypto's; pki.ts decides what is allowed. cert-der.test.ts compares both with @peculiar/x509 and
// openssl, and fuzzes the reader.
import { children, decodeOid, DerError, encodeOid, encodeTime, expectTlv, TAG, tlv } from "./der.ts";

const OID = {
  extensionRequest: "1.2.840.113549.1.9.14",
  subjectAltName: "2.5.29.17",
} as const;

export interface CsrParts {
  /** certificationRequestInfo as sent: the bytes the signature covers. */
  info: Buffer;
  /** subjectPublicKeyInfo, DER. */
  spki: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  /** The Extensions of every extensionRequest attribute, DER, unread (requestedUris reads them). */
  extensionRequests: Buffer[];
}

/** Reads a DER CSR; throws DerError when it is not one (strict DER, no trailing bytes). */
export function readCsrDer(der: Buffer): CsrParts {
  const outer = expectTlv(der, 0, TAG.SEQUENCE, "CertificationRequest");
  if (outer.end !== der.length) throw new DerError(`${der.length - outer.end} bytes after the CSR`);
  const [info, alg, sig, ...extra] = children(outer.value);
  if (!info || !alg || !sig || extra.length) throw new DerError("a CSR has three parts: request info, signature algorithm, signature");
  if (info.tag !== TAG.SEQUENCE || alg.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING) throw new DerError("CSR parts have the wrong types");
  const [version, subject, spki, attrs, ...more] = children(info.value);
  if (!version || version.tag !== TAG.INTEGER || version.value.length !== 1 || version.value[0] !== 0) throw new DerError("CSR version must be 1 (0)");
  if (!subject || subject.tag !== TAG.SEQUENCE) throw new DerError("CSR subject is not a Name");
  if (!spki || spki.tag !== TAG.SEQUENCE) throw new DerError("CSR public key is not a SubjectPublicKeyInfo");
  if (more.length) throw new DerError("CSR request info has extra fields");
  const extensionRequests: Buffer[] = [];
  if (attrs) {
    if (attrs.tag !== 0xa0) throw new DerError("CSR attributes are not [0]");
    for (const attr of children(attrs.value)) {
      if (attr.tag !== TAG.SEQUENCE) throw new DerError("CSR attribute is not a SEQUENCE");
      const [type, values, ...rest] = children(attr.value);
      if (!type || type.tag !== TAG.OID || !values || values.tag !== TAG.SET || rest.length) throw new DerError("malformed CSR attribute");
      if (decodeOid(type.value) !== OID.extensionRequest) continue;
      for (const exts of children(values.value)) extensionRequests.push(exts.raw);
    }
  }
  const [algOid] = children(alg.value);
  if (!algOid || algOid.tag !== TAG.OID) throw new DerError("CSR signature algorithm has no identifier");
  if (sig.value.length < 2 || sig.value[0] !== 0) throw new DerError("CSR signature is not a whole number of bytes");
  return { info: info.raw, spki: spki.raw, signatureAlgorithm: decodeOid(algOid.value), signature: sig.value.subarray(1), extensionRequests };
}

/** Every URI in every subjectAltName extension the CSR requests; throws DerError on malformed ones. */
export function requestedUris(csr: CsrParts): string[] {
  return csr.extensionRequests.flatMap(sanUris);
}

/** URIs of the subjectAltName extensions in an Extensions SEQUENCE. */
function sanUris(extensions: Buffer): string[] {
  const seq = expectTlv(extensions, 0, TAG.SEQUENCE, "Extensions");
  const out: string[] = [];
  for (const ext of children(seq.value)) {
    if (ext.tag !== TAG.SEQUENCE) throw new DerError("Extension is not a SEQUENCE");
    const parts = children(ext.value);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (!id || id.tag !== TAG.OID || !value || value.tag !== TAG.OCTET_STRING || parts.length > 3) throw new DerError("malformed Extension");
    if (parts.length === 3 && parts[1]!.tag !== TAG.BOOLEAN) throw new DerError("Extension criticality is not a BOOLEAN");
    if (decodeOid(id.value) !== OID.subjectAltName) continue;
    const names = expectTlv(value.value, 0, TAG.SEQUENCE, "GeneralNames", value.value.length);
    if (names.end !== value.value.length) throw new DerError("bytes after GeneralNames");
    // uniformResourceIdentifier [6] IMPLICIT IA5String
    for (const n of children(names.value)) if (n.tag === 0x86) out.push(n.value.toString("latin1"));
  }
  return out;
}

/** ecdsa-with-SHA256 (RFC 5758), no parameters. */
const ECDSA_WITH_SHA256 = tlv(TAG.SEQUENCE, encodeOid("1.2.840.10045.4.3.2"));
const V3 = tlv(0xa0, tlv(TAG.INTEGER, Buffer.from([2])));
const EMPTY_NAME = tlv(TAG.SEQUENCE);

export interface CertTemplate {
  /** The issuer's subject Name, DER (from the CA certificate). */
  issuer: Buffer;
  /** Extensions every certificate of this CA carries, each a DER Extension. */
  extensions: Buffer[];
}

/** A critical subjectAltName with one URI: the subject is empty, so RFC 5280 4.2.1.6 makes it critical. */
export function uriSanExtension(uri: string): Buffer {
  if (!/^[\x20-\x7e]+$/.test(uri)) throw new DerError("a URI SAN is printable ASCII (IA5String)");
  const names = tlv(TAG.SEQUENCE, tlv(0x86, Buffer.from(uri, "latin1")));
  return tlv(TAG.SEQUENCE, encodeOid(OID.subjectAltName), tlv(TAG.BOOLEAN, Buffer.from([0xff])), tlv(TAG.OCTET_STRING, names));
}

/** The to-be-signed part of a workload certificate: empty subject, the SPIFFE URI as its critical SAN. */
export function buildTbs(t: CertTemplate, o: { serial: Uint8Array; notBefore: Date; notAfter: Date; spki: Buffer; uri: string }): Buffer {
  if (o.serial.length === 0 || o.serial[0]! & 0x80 || (o.serial[0] === 0 && o.serial.length > 1))
    throw new DerError("serial must be a positive minimal INTEGER");
  return tlv(
    TAG.SEQUENCE,
    V3,
    tlv(TAG.INTEGER, o.serial),
    ECDSA_WITH_SHA256,
    t.issuer,
    tlv(TAG.SEQUENCE, encodeTime(o.notBefore), encodeTime(o.notAfter)),
    EMPTY_NAME,
    o.spki,
    tlv(0xa3, tlv(TAG.SEQUENCE, ...t.extensions, uriSanExtension(o.uri))),
  );
}

/** A certificate from its TBS and an ECDSA signature (DER Ecdsa-Sig-Value) over it. */
export function assembleCertificate(tbs: Buffer, signature: Buffer): Buffer {
  return tlv(TAG.SEQUENCE, tbs, ECDSA_WITH_SHA256, tlv(TAG.BIT_STRING, Buffer.from([0]), signature));
}

/** The subject Name of a DER certificate, as DER. */
export function certificateSubject(cert: Buffer): Buffer {
  const outer = expectTlv(cert, 0, TAG.SEQUENCE, "Certificate");
  const tbs = expectTlv(outer.value, 0, TAG.SEQUENCE, "TBSCertificate");
  const f = children(tbs.value);
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  const subject = f[i + 4];
  if (!subject || subject.tag !== TAG.SEQUENCE) throw new DerError("certificate has no subject Name");
  return subject.raw;
}
