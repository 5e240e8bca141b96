// Who is calling the control plane. Proxies send "authorization: Bearer <token>"; an authenticator
// turns it into a caller: in Kubernetes a service account checked with TokenReview (and the node its
// pod runs on), in file mode a per-node bootstrap token.
import { Code, ConnectError } from "@connectrpc/connect";

export interface Caller {
  /** Who, for logs: "system:serviceaccount:istio-system:ztunnel" or "bootstrap:node-1". */
  subject: string;
  /** A node proxy's node (ztunnel): it may request certificates for the identities on this node. */
  node: string | undefined;
  /** The caller's own service account: any caller may request a certificate for itself (waypoints). */
  identity?: { namespace: string; serviceAccount: string };
}

/** Bootstrap token names for a service account rather than a node (file mode waypoints). */
export function identityTokenName(namespace: string, serviceAccount: string): string {
  return `serviceaccount:${namespace}:${serviceAccount}`;
}

export interface Authenticator {
  authenticate(authorization: string | null): Promise<Caller>;
}

export function bearerToken(authorization: string | null): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!m) throw new ConnectError('missing "authorization: Bearer <token>" metadata', Code.Unauthenticated);
  return m[1]!;
}

/** File mode: token -> node or service account, from the bootstrap tokens the control plane issues. */
export class BootstrapTokenAuthenticator implements Authenticator {
  private readonly lookup: (token: string) => { name: string; expired: boolean } | undefined;

  constructor(lookup: (token: string) => { name: string; expired: boolean } | undefined) {
    this.lookup = lookup;
  }

  async authenticate(authorization: string | null): Promise<Caller> {
    const token = bearerToken(authorization);
    const found = this.lookup(token);
    if (!found) throw new ConnectError("unknown bootstrap token: use the token the control plane wrote for this node or service account", Code.Unauthenticated);
    if (found.expired)
      throw new ConnectError(
        `bootstrap token for ${found.name} expired: tokens rotate at half their life, so re-read the token file on every call`,
        Code.Unauthenticated,
      );
    const name = found.name;
    const sa = /^serviceaccount:([^:]+):([^:]+)$/.exec(name);
    if (sa) return { subject: `bootstrap:${name}`, node: undefined, identity: { namespace: sa[1]!, serviceAccount: sa[2]! } };
    return { subject: `bootstrap:${name}`, node: name };
  }
}
