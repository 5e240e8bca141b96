// SPIFFE identities as Istio spells them: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
import { ErrorCode, MeshError } from "./errors.ts";

export interface Identity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export const DEFAULT_TRUST_DOMAIN = "cluster.local";
/** Kubernetes' default DNS domain (service names: <svc>.<ns>.svc.<domain>); the same string, another concept. */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

const SPIFFE_RE = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

export function formatIdentity(id: Identity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

export function parseIdentity(uri: string): Identity {
  const m = SPIFFE_RE.exec(uri);
  if (!m) {
    throw new MeshError(ErrorCode.Identity, `"${uri}" is not a SPIFFE identity of the form spiffe://<trust-domain>/ns/<ns>/sa/<sa>`);
  }
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

export function tryParseIdentity(uri: string): Identity | undefined {
  try {
    return parseIdentity(uri);
  } catch {
    return undefined;
  }
}

/** Policy principals are matched without the scheme: `cluster.local/ns/x/sa/y`. */
export function principalOf(id: Identity): string {
  return `${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The URI SANs of a peer certificate, from Node's `subjectAltName` string ("URI:spiffe://..., DNS:x"). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(/,\s*/)
    .filter((s) => s.startsWith("URI:"))
    .map((s) => s.slice(4));
}
