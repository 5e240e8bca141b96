// Kubernetes mode: a bearer token is a service-account token, checked with the TokenReview API. The
// caller's node comes from the token's pod binding (authentication.kubernetes.io/node-name in bound
// tokens, or the pod it names); without one, certificate requests are refused.
import { AuthenticationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeError } from "../../shared/errors.ts";
import { bearerToken, type Authenticator, type Caller } from "./authenticator.ts";

export interface TokenReviewOptions {
  kubeConfig: KubeConfig;
  /** Service accounts ("namespace/name") allowed to act as proxies, e.g. istio-system/ztunnel. */
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
      review = await this.api.createTokenReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: this.opts.audiences ?? ["istio-ca"] } } });
    } catch (err) {
      throw new ConnectError(`TokenReview failed: ${describeError(err)} (does the control plane's service account have create on tokenreviews?)`, Code.Unavailable);
    }
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) {
      throw new ConnectError(`token rejected by the API server${status?.error ? `: ${status.error}` : ""}`, Code.Unauthenticated);
    }
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(status.user.username);
    if (!m || !this.opts.allowed.includes(`${m[1]}/${m[2]}`)) {
      throw new ConnectError(`${status.user.username} may not use the control plane; allowed: ${this.opts.allowed.join(", ")}`, Code.PermissionDenied);
    }
    const extra = status.user.extra ?? {};
    const podName = extra["authentication.kubernetes.io/pod-name"]?.[0];
    const node = extra["authentication.kubernetes.io/node-name"]?.[0] ?? (podName ? this.opts.nodeOfPod(m[1]!, podName) : undefined);
    return { subject: status.user.username, node };
  }
}
