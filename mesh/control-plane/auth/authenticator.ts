// Who is calling the control plane. Proxies send "authorization: Bearer <token>"; an authenticator
// turns it into a caller: in Kubernetes a service account checked with TokenReview (and the node its
// pod runs on), in file mode a per-node bootstrap token.
import { Code, ConnectError } from "@connectrpc/connect";

export interface Caller {
  /** Who, for logs: "system:serviceaccount:istio-system:ztunnel" or "bootstrap:node-1". */
  subject: string;
  /** The node the caller runs on; certificate requests are limited to identities on this node. */
  node: string | undefined;
}

export interface Authenticator {
  authenticate(authorization: string | null): Promise<Caller>;
}

export function bearerToken(authorization: string | null): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!m) throw new ConnectError('missing "authorization: Bearer <token>" metadata', Code.Unauthenticated);
  return m[1]!;
}

/** File mode: token -> node, from the bootstrap token files the control plane writes for each node. */
export class BootstrapTokenAuthenticator implements Authenticator {
  private readonly tokens: () => ReadonlyMap<string, string>;

  constructor(tokens: () => ReadonlyMap<string, string>) {
    this.tokens = tokens;
  }

  async authenticate(authorization: string | null): Promise<Caller> {
    const token = bearerToken(authorization);
    const node = this.tokens().get(token);
    if (!node) throw new ConnectError("unknown bootstrap token: use the token the control plane wrote for this node", Code.Unauthenticated);
    return { subject: `bootstrap:${node}`, node };
  }
}
