// Certificates for workload identities: roots and CSRs with @peculiar/x509 on Node's WebCrypto; CSR
// checks and signing on @peculiar/asn1-x509 structures with Node's native crypto.
// Keys are ECDSA P-256: cheap to generate and sign with, and what TLS 1.3 peers all accept.
// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import * as asn from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
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

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, "")}\n-----END ${label}-----\n`;
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

// Signing runs on the CA's hot path (every workload identity on every node, renewed at half-life), so
// it works on the ASN.1 structures directly (@peculiar/asn1-x509) and signs with Node's native crypto:
// several times faster than the high-level certificate generator, which re-encodes as it goes.
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const ECDSA_SHA256 = new asn.AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" });

interface Signer {
  issuer: asn.Name;
  notAfterCap: number;
  key: KeyObject;
  /** Extensions every workload certificate carries. */
  constant: asn.Extension[];
}

// Parsing the CA certificate and importing its key cost more than a signature: do it once per CA.
const signers = new WeakMap<CaMaterial, Signer>();

function ext(id: string, critical: boolean, value: unknown): asn.Extension {
  return new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
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
    issuer: caCert.tbsCertificate.subject,
    notAfterCap: caCert.tbsCertificate.validity.notAfter.getTime().getTime(),
    key,
    constant: [
      ext(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false })),
      ext(asn.id_ce_keyUsage, true, new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature | asn.KeyUsageFlags.keyEncipherment)),
      ext(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage([asn.id_kp_serverAuth, asn.id_kp_clientAuth])),
      ...(keyId ? [ext(asn.id_ce_authorityKeyIdentifier, false, new asn.AuthorityKeyIdentifier({ keyIdentifier: keyId }))] : []),
    ],
  };
  signers.set(ca, s);
  return s;
}

export interface InspectedCsr {
  identity: Identity;
  subjectPublicKeyInfo: asn.SubjectPublicKeyInfo;
}

const SIGNATURE_HASHES: Record<string, string> = {
  "1.2.840.10045.4.3.2": "sha256", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": "sha384",
};

/** Reads and checks a CSR: signature valid (proof of possession), exactly one SPIFFE URI SAN. */
export async function inspectCsr(csrPem: string): Promise<InspectedCsr> {
  let req: CertificationRequest;
  try {
    if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(csrPem)) throw new Error("no PEM CERTIFICATE REQUEST block");
    req = AsnConvert.parse(pemToDer(csrPem), CertificationRequest);
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CSR is not a valid PEM PKCS#10 request", { cause: err });
  }
  const info = req.certificationRequestInfo;
  const hash = SIGNATURE_HASHES[req.signatureAlgorithm.algorithm];
  if (!hash) throw new MeshError(ErrorCode.Ca, `unsupported CSR signature algorithm ${req.signatureAlgorithm.algorithm}`);
  let valid: boolean;
  try {
    const key = createPublicKey({ key: Buffer.from(AsnConvert.serialize(info.subjectPKInfo)), format: "der", type: "spki" });
    const signed = req.certificationRequestInfoRaw ?? AsnConvert.serialize(info);
    valid = cryptoVerify(hash, Buffer.from(signed), { key, dsaEncoding: "der" }, Buffer.from(req.signature));
  } catch (err) {
    throw new MeshError(ErrorCode.Ca, "the CSR's key or signature cannot be read", { cause: err });
  }
  if (!valid) throw new MeshError(ErrorCode.Ca, "the CSR signature does not verify");
  const uris: string[] = [];
  try {
    for (const attr of info.attributes.filter((a) => a.type === OID_EXTENSION_REQUEST)) {
      for (const v of attr.values) {
        for (const e of AsnConvert.parse(v, asn.Extensions)) {
          if (e.extnID !== asn.id_ce_subjectAltName) continue;
          for (const name of AsnConvert.parse(e.extnValue, asn.SubjectAlternativeName))
            if (name.uniformResourceIdentifier) uris.push(name.uniformResourceIdentifier);
        }
      }
    }
  } catch (err) {
    // A correctly signed CSR can still carry malformed extensions: the requester chose them.
    throw new MeshError(ErrorCode.Ca, "the CSR's extension request cannot be read", { cause: err });
  }
  if (uris.length !== 1) {
    throw new MeshError(ErrorCode.Ca, `the CSR must carry exactly one URI SAN, found ${uris.length}`);
  }
  return { identity: parseIdentity(uris[0]!), subjectPublicKeyInfo: info.subjectPKInfo };
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
  const serial = webcrypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  const san = ext(
    asn.id_ce_subjectAltName,
    true,
    new asn.SubjectAlternativeName([new asn.GeneralName({ uniformResourceIdentifier: formatIdentity(opts.identity) })]),
  );
  const tbs = new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: ECDSA_SHA256,
    issuer: signer.issuer,
    subject: new asn.Name(),
    validity: new asn.Validity({ notBefore, notAfter }),
    subjectPublicKeyInfo,
    extensions: new asn.Extensions([...signer.constant, san]),
  });
  const signature = cryptoSign("sha256", Buffer.from(AsnConvert.serialize(tbs)), { key: signer.key, dsaEncoding: "der" });
  const der = AsnConvert.serialize(new asn.Certificate({ tbsCertificate: tbs, signatureAlgorithm: ECDSA_SHA256, signatureValue: toArrayBuffer(signature) }));
  // Leaf, then the signing cert when it is an intermediate, then its chain, root last.
  const intermediates = opts.ca.certPem === opts.ca.rootPem ? [] : [opts.ca.certPem, ...opts.ca.chainPem];
  return { chainPem: [toPem(der, "CERTIFICATE"), ...intermediates, opts.ca.rootPem], notBefore, notAfter };
}

/** Validity window of a PEM certificate. */
export function certValidity(certPem: string): { notBefore: Date; notAfter: Date; serial: string } {
  const cert = new x509.X509Certificate(certPem);
  return { notBefore: cert.notBefore, notAfter: cert.notAfter, serial: cert.serialNumber };
}
