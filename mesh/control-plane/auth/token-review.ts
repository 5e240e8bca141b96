// Kubernetes mode: a bearer token is a service-account token, checked with the TokenReview API. Every
// authenticated service account may ask for its own identity (waypoints). A node proxy's account
// (`allowed`, e.g. istio-system/ztunnel) also gets its node, from the token's pod binding
// (authentication.kubernetes.io/node-name, or the pod it names), and may ask for the identities there.
import { AuthenticationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeError } from "../../shared/index.ts";
import { bearerToken, type Authenticator, type Caller } from "./authenticator.ts";

export interface TokenReviewOptions {
  kubeConfig: KubeConfig;
  /** Service accounts ("namespace/name") of node proxies, e.g. istio-system/ztunnel. */
  allowed: string[];
  audiences?: string[];
  /** The node a pod runs on, for tokens bound to a pod but not to a node. */
  nodeOfPod: (namespace: string, name: string) => string | undefined;
}

export class TokenReviewAuthenticator implements Authenticator {
  private readonly api: AuthenticationV1Api;
  private readonly opts: TokenReviewOptions;

  constructor(opts: TokenReviewOptions) {
    this.api = opts.kubeConfig.makeApiClient(AuthenticationV1Api);
    this.opts = opts;
  }

  async authenticate(authorization: string | null): Promise<Caller> {
    const token = bearerToken(authorization);
    let review;
    try {
      review = await this.api.createTokenReview({
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: this.opts.audiences ?? ["istio-ca"] } },
      });
    } catch (err) {
      throw new ConnectError(
        `TokenReview failed: ${describeError(err)} (does the control plane's service account have create on tokenreviews?)`,
        Code.Unavailable,
      );
    }
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) {
      throw new ConnectError(`token rejected by the API server${status?.error ? `: ${status.error}` : ""}`, Code.Unauthenticated);
    }
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(status.user.username);
    if (!m)
      throw new ConnectError(`${status.user.username} is not a service account; proxies authenticate with their service-account token`, Code.PermissionDenied);
    const identity = { namespace: m[1]!, serviceAccount: m[2]! };
    if (!this.opts.allowed.includes(`${m[1]}/${m[2]}`)) return { subject: status.user.username, node: undefined, identity };
    const extra = status.user.extra ?? {};
    const podName = extra["authentication.kubernetes.io/pod-name"]?.[0];
    const node = extra["authentication.kubernetes.io/node-name"]?.[0] ?? (podName ? this.opts.nodeOfPod(m[1]!, podName) : undefined);
    return { subject: status.user.username, node, identity };
  }
}
