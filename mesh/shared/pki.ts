// Certificates for workload identities: roots, CSRs and signing, with @peculiar/x509 on Node's WebCrypto.
// Keys are ECDSA P-256: cheap to generate and sign with, and what TLS 1.3 peers all accept.
// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto, createPrivateKey, createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { ErrorCode, MeshError } from "./errors.ts";
import { formatIdentity, parseIdentity, type Identity } from "./identity.ts";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN_ALG = { name: "ECDSA", hash: "SHA-256" } as const;
const OID_SUBJECT_ALT_NAME = "2.5.29.17";

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

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

async function generateKeys(): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keys, privateKeyPem: toPem(pkcs8, "PRIVATE KEY") };
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CA private key is not a valid PEM key", { cause: err });
  }
  return key.toCryptoKey(EC_ALG, false, ["sign"]) as CryptoKey;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString("hex");
}

/** A self-signed root for a trust domain, valid for `years`. */
export async function createRootCa(opts: { trustDomain: string; years?: number; now?: Date }): Promise<CaMaterial> {
  const now = opts.now ?? new Date();
  const { keys, privateKeyPem } = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
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

export interface InspectedCsr {
  identity: Identity;
  csr: x509.Pkcs10CertificateRequest;
}

const SIGNATURE_HASHES: Record<string, string> = {
  "1.2.840.10045.4.3.2": "sha256", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": "sha384",
};

/** Proof of possession, checked with Node's native crypto (several times faster than through WebCrypto). */
function verifyCsrSignature(csr: x509.Pkcs10CertificateRequest): boolean {
  const alg = (csr as unknown as { asn: { signatureAlgorithm: { algorithm: string } } }).asn.signatureAlgorithm.algorithm;
  const hash = SIGNATURE_HASHES[alg];
  if (!hash) throw new MeshError(ErrorCode.Ca, `unsupported CSR signature algorithm ${alg}`);
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" });
  const tbs = (csr as unknown as { tbs: ArrayBuffer }).tbs; // the signed CertificationRequestInfo bytes
  return cryptoVerify(hash, Buffer.from(tbs), { key, dsaEncoding: "der" }, Buffer.from(csr.signature));
}

/** Reads and checks a CSR: signature valid, exactly one SPIFFE URI SAN. Returns that identity. */
export async function inspectCsr(csrPem: string): Promise<InspectedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CSR is not a valid PEM PKCS#10 request", { cause: err });
  }
  let valid: boolean;
  try {
    valid = verifyCsrSignature(csr);
  } catch (err) {
    throw err instanceof MeshError ? err : new MeshError(ErrorCode.Ca, "the CSR's key or signature cannot be read", { cause: err });
  }
  if (!valid) throw new MeshError(ErrorCode.Ca, "the CSR signature does not verify");
  // Looked up by OID and re-parsed: getExtension(Class) compares constructors, which fails when the
  // package is loaded both as ESM and CJS in one process.
  const raw = csr.extensions.find((e) => e.type === OID_SUBJECT_ALT_NAME);
  const san = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData) : undefined;
  const uris = san?.names.items.filter((n) => n.type === "url").map((n) => n.value) ?? [];
  if (uris.length !== 1) {
    throw new MeshError(ErrorCode.Ca, `the CSR must carry exactly one URI SAN, found ${uris.length}`);
  }
  return { identity: parseIdentity(uris[0]!), csr };
}

interface Signer {
  caCert: x509.X509Certificate;
  key: Promise<CryptoKey>;
  aki: Promise<x509.AuthorityKeyIdentifierExtension>;
}

// Parsing the CA certificate and importing its key cost more than the signature itself: do it once per CA.
const signers = new WeakMap<CaMaterial, Signer>();

function signerFor(ca: CaMaterial): Signer {
  let s = signers.get(ca);
  if (!s) {
    const caCert = new x509.X509Certificate(ca.certPem);
    s = { caCert, key: importSigningKey(ca.keyPem), aki: x509.AuthorityKeyIdentifierExtension.create(caCert) };
    signers.set(ca, s);
  }
  return s;
}

/**
 * Signs a workload certificate for `identity` with the public key of `csrPem`. The caller has already
 * decided the identity is allowed; this only checks the CSR asks for that same identity.
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
  const { identity: requested, csr } = opts.inspected ?? (await inspectCsr(opts.csrPem));
  if (formatIdentity(requested) !== formatIdentity(opts.identity)) {
    throw new MeshError(
      ErrorCode.Ca,
      `the CSR asks for ${formatIdentity(requested)} but the caller may only have ${formatIdentity(opts.identity)}`,
    );
  }
  const now = opts.now ?? new Date();
  const signer = signerFor(opts.ca);
  const caCert = signer.caCert;
  const notBefore = new Date(now.getTime() - 60_000); // tolerate small clock skew between nodes
  const notAfter = new Date(Math.min(now.getTime() + opts.ttlSeconds * 1000, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "",
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGN_ALG,
    publicKey: csr.publicKey,
    signingKey: await signer.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: formatIdentity(opts.identity) }], true),
      await signer.aki,
    ],
  });
  // Leaf, then the signing cert when it is an intermediate, then its chain, root last.
  const intermediates = opts.ca.certPem === opts.ca.rootPem ? [] : [opts.ca.certPem, ...opts.ca.chainPem];
  return { chainPem: [cert.toString("pem") + "\n", ...intermediates, opts.ca.rootPem], notBefore, notAfter };
}

/** Validity window of a PEM certificate. */
export function certValidity(certPem: string): { notBefore: Date; notAfter: Date; serial: string } {
  const cert = new x509.X509Certificate(certPem);
  return { notBefore: cert.notBefore, notAfter: cert.notAfter, serial: cert.serialNumber };
}
