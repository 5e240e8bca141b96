// Certificates for workload identities: roots and CSRs with @peculiar/x509 on Node's WebCrypto; the CA's
// hot path (reading a CSR, writing a certificate) in DER templates (cert-der.ts) with Node's native crypto.
// Keys are ECDSA P-256: cheap to generate and sign with, and what TLS 1.3 peers all accept.
// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto, createPrivateKey, randomBytes, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import * as asn from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import { assembleCertificate, buildTbs, certificateSubject, readCsrDer, requestedUris, type CertTemplate, type CsrParts } from "./cert-der.ts";
import { ErrorCode, MeshError } from "./errors.ts";
import { formatIdentity, parseIdentity, type Identity } from "./identity.ts";

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN_ALG = { name: "ECDSA", hash: "SHA-256" } as const;

export interface KeyPairPem {
  privateKeyPem: string;
  keys: CryptoKeyPair;
}

export interface CaMaterial {
  /** The certificate that signs workload certificates (the root itself for a self-signed CA). */
  certPem: string;
  keyPem: string;
  /** Intermediates between the signing cert and the root, signing cert first; empty for a root CA. */
  chainPem: string[];
  /** The trust anchors peers verify against. */
  rootPem: string;
}

export interface IssuedCert {
  /** Leaf first, root last, as Istio's CreateCertificate returns it. */
  chainPem: string[];
  notBefore: Date;
  notAfter: Date;
}

function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  // Lines of 64 characters, cut by slicing (a global regex replace was 7 % of the CA's CPU per certificate).
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Random bytes for certificate serials, drawn from a pool refilled 4 KiB at a time: one call into the
 * random generator per 256 certificates instead of one each (getRandomValues was 3 % of a certificate).
 */
const SERIAL_POOL_BYTES = 4096;
let serialPool = new Uint8Array(0);
let serialAt = 0;
function randomSerial(): Uint8Array {
  if (serialAt + 16 > serialPool.length) {
    serialPool = randomBytes(SERIAL_POOL_BYTES);
    serialAt = 0;
  }
  const serial = serialPool.slice(serialAt, serialAt + 16);
  serialAt += 16;
  return serial;
}

async function generateKeys(): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keys, privateKeyPem: toPem(pkcs8, "PRIVATE KEY") };
}

function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString("hex");
}

/** A self-signed root for a trust domain, valid for `years`. */
export async function createRootCa(opts: { trustDomain: string; years?: number; now?: Date }): Promise<CaMaterial> {
  const now = opts.now ?? new Date();
  const { keys, privateKeyPem } = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: `O=${opts.trustDomain}, CN=ambient-lab root CA`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (opts.years ?? 10) * 365 * 86_400_000),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = cert.toString("pem") + "\n";
  return { certPem: pem, keyPem: privateKeyPem, chainPem: [], rootPem: pem };
}

/** A fresh key and a CSR carrying the SPIFFE URI SAN of `identity`. */
export async function createCsr(identity: Identity): Promise<{ csrPem: string; keyPem: string }> {
  const { keys, privateKeyPem } = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: formatIdentity(identity) }], true)],
  });
  return { csrPem: csr.toString("pem") + "\n", keyPem: privateKeyPem };
}

// Signing runs on the CA's hot path (every workload identity on every node, renewed at half-life): the
// certificate is assembled from DER pieces computed once per CA (issuer, constant extensions) and
// signed with Node's native crypto. The ASN.1 library (once per CA, here) took ~3 ms per certificate.
interface Signer {
  template: CertTemplate;
  notAfterCap: number;
  key: KeyObject;
}

// Parsing the CA certificate and importing its key cost more than a signature: do it once per CA.
const signers = new WeakMap<CaMaterial, Signer>();

function ext(id: string, critical: boolean, value: unknown): Buffer {
  return Buffer.from(AsnConvert.serialize(new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) })));
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
}

function signerFor(ca: CaMaterial): Signer {
  const cached = signers.get(ca);
  if (cached) return cached;
  let caCert: asn.Certificate;
  try {
    caCert = AsnConvert.parse(pemToDer(ca.certPem), asn.Certificate);
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CA certificate is not a valid PEM certificate", { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.keyPem);
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CA private key is not a valid PEM key", { cause: err });
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new MeshError(
      ErrorCode.Ca,
      `the CA key must be ECDSA P-256, got ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyDetails?.modulusLength ?? ""}: issue the CA with privateKey.algorithm ECDSA, size 256`,
    );
  }
  const ski = caCert.tbsCertificate.extensions?.find((e) => e.extnID === asn.id_ce_subjectKeyIdentifier);
  const keyId = ski ? AsnConvert.parse(ski.extnValue, asn.SubjectKeyIdentifier) : undefined;
  const s: Signer = {
    template: {
      issuer: certificateSubject(pemToDer(ca.certPem)),
      extensions: [
        ext(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false })),
        ext(asn.id_ce_keyUsage, true, new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature | asn.KeyUsageFlags.keyEncipherment)),
        ext(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage([asn.id_kp_serverAuth, asn.id_kp_clientAuth])),
        ...(keyId ? [ext(asn.id_ce_authorityKeyIdentifier, false, new asn.AuthorityKeyIdentifier({ keyIdentifier: keyId }))] : []),
      ],
    },
    notAfterCap: caCert.tbsCertificate.validity.notAfter.getTime().getTime(),
    key,
  };
  signers.set(ca, s);
  return s;
}

export interface InspectedCsr {
  identity: Identity;
  /** DER, as the CSR carries it: it goes into the certificate unchanged. */
  subjectPublicKeyInfo: Buffer;
}

const SIGNATURE_HASHES: Record<string, string> = {
  "1.2.840.10045.4.3.2": "sha256", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": "sha384",
};

/** Reads and checks a CSR: signature valid (proof of possession), exactly one SPIFFE URI SAN. */
export async function inspectCsr(csrPem: string): Promise<InspectedCsr> {
  let csr: CsrParts;
  try {
    if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(csrPem)) throw new Error("no PEM CERTIFICATE REQUEST block");
    csr = readCsrDer(pemToDer(csrPem));
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CSR is not a valid PEM PKCS#10 request", { cause: err });
  }
  const hash = SIGNATURE_HASHES[csr.signatureAlgorithm];
  if (!hash) throw new MeshError(ErrorCode.Ca, `unsupported CSR signature algorithm ${csr.signatureAlgorithm}`);
  let valid: boolean;
  try {
    // A PEM string, not an options object: node checks an object for KeyObject slots by catching an
    // exception, which cost a fifth of each verification (CPU profile of bench:control-plane).
    valid = cryptoVerify(hash, csr.info, toPem(csr.spki, "PUBLIC KEY"), csr.signature);
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CSR's key or signature cannot be read", { cause: err });
  }
  if (!valid) throw new MeshError(ErrorCode.Ca, "the CSR signature does not verify");
  let uris: string[];
  try {
    uris = requestedUris(csr);
  } catch (err) {
    // A correctly signed CSR can still carry malformed extensions: the requester chose them.
    throw new MeshError(ErrorCode.Ca, "the CSR's extension request cannot be read", { cause: err });
  }
  if (uris.length !== 1) {
    throw new MeshError(ErrorCode.Ca, `the CSR must carry exactly one URI SAN, found ${uris.length}`);
  }
  return { identity: parseIdentity(uris[0]!), subjectPublicKeyInfo: csr.spki };
}

/**
 * Signs a workload certificate for `identity` with the public key of `csrPem`. The caller has already
 * decided the identity is allowed; this only checks the CSR asks for that same identity. The SAN is
 * written from the checked identity, never copied from the request.
 */
export async function signWorkloadCert(opts: {
  ca: CaMaterial;
  csrPem: string;
  identity: Identity;
  ttlSeconds: number;
  now?: Date;
  /** The CSR already read with inspectCsr, to avoid reading it twice. */
  inspected?: InspectedCsr;
}): Promise<IssuedCert> {
  const { identity: requested, subjectPublicKeyInfo } = opts.inspected ?? (await inspectCsr(opts.csrPem));
  if (formatIdentity(requested) !== formatIdentity(opts.identity)) {
    throw new MeshError(ErrorCode.Ca, `the CSR asks for ${formatIdentity(requested)} but the caller may only have ${formatIdentity(opts.identity)}`);
  }
  const signer = signerFor(opts.ca);
  const now = (opts.now ?? new Date()).getTime();
  const notBefore = new Date(Math.floor((now - 60_000) / 1000) * 1000); // tolerate small clock skew between nodes
  const notAfter = new Date(Math.floor(Math.min(now + opts.ttlSeconds * 1000, signer.notAfterCap) / 1000) * 1000);
  const serial = randomSerial();
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  const tbs = buildTbs(signer.template, { serial, notBefore, notAfter, spki: subjectPublicKeyInfo, uri: formatIdentity(opts.identity) });
  // The KeyObject itself (its default ECDSA encoding is DER): an options object costs a slot check (above).
  const der = assembleCertificate(tbs, cryptoSign("sha256", tbs, signer.key));
  // Leaf, then the signing cert when it is an intermediate, then its chain, root last.
  const intermediates = opts.ca.certPem === opts.ca.rootPem ? [] : [opts.ca.certPem, ...opts.ca.chainPem];
  return { chainPem: [toPem(der, "CERTIFICATE"), ...intermediates, opts.ca.rootPem], notBefore, notAfter };
}

/** Validity window of a PEM certificate. */
export function certValidity(certPem: string): { notBefore: Date; notAfter: Date; serial: string } {
  const cert = new x509.X509Certificate(certPem);
  return { notBefore: cert.notBefore, notAfter: cert.notAfter, serial: cert.serialNumber };
}

/**
 * A TLS server certificate for DNS names (the control plane's admission webhook, which the API server
 * reaches as https://<service>.<namespace>.svc), signed by the mesh CA: the webhook configuration's
 * caBundle is the mesh root. Rare (once a week), so @peculiar/x509 rather than the DER template.
 */
export async function issueServingCert(opts: {
  ca: CaMaterial;
  dnsNames: string[];
  ttlSeconds: number;
  now?: Date;
}): Promise<{ certPem: string; keyPem: string; notAfter: Date }> {
  if (opts.dnsNames.length === 0) throw new MeshError(ErrorCode.Ca, "a serving certificate needs at least one DNS name");
  const { keys, privateKeyPem } = await generateKeys();
  const issuer = new x509.X509Certificate(opts.ca.certPem);
  const caKey = await webcrypto.subtle.importKey("pkcs8", createPrivateKey(opts.ca.keyPem).export({ format: "der", type: "pkcs8" }), EC_ALG, false, ["sign"]);
  const now = (opts.now ?? new Date()).getTime();
  const notAfter = new Date(Math.min(now + opts.ttlSeconds * 1000, issuer.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: `CN=${opts.dnsNames[0]}`,
    issuer: issuer.subject,
    notBefore: new Date(now - 60_000),
    notAfter,
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: "dns" as const, value }))),
    ],
  });
  const intermediates = opts.ca.certPem === opts.ca.rootPem ? [] : [opts.ca.certPem, ...opts.ca.chainPem];
  return { certPem: [cert.toString("pem") + "\n", ...intermediates].join(""), keyPem: privateKeyPem, notAfter };
}
