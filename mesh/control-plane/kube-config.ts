// client-node 2.0 builds a new undici Agent for every request whenever the cluster has TLS settings
// (always inside a pod: the service-account CA), so every API call opened a new TCP and TLS
// connection and left the old one to idle out. At start the control plane writes one status per
// AuthorizationPolicy: 500 policies were 500 handshakes and ~5 s of CPU (issue 13's benchmark, where
// they overlapped the proxies' first sync). This KubeConfig keeps one Agent while the connection
// settings stay the same, and replaces it (closing the old one gracefully) when they change: another
// context, or a rotated CA or client-certificate file.
import { createHash } from "node:crypto";
import { bufferFromFileOrString, KubeConfig } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

export class PooledKubeConfig extends KubeConfig {
  private pooled: { key: string; dispatcher: Dispatcher } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    const key = fresh && this.connectionKey();
    if (!fresh || !key) return;
    if (this.pooled?.key === key) {
      context.setDispatcher(this.pooled.dispatcher);
      void fresh.close(); // never connected: closing only releases it
      return;
    }
    const old = this.pooled;
    this.pooled = { key, dispatcher: fresh };
    void old?.dispatcher.close(); // lets requests in flight (watches) finish on it
  }

  /** Closes the pooled connections (on shutdown). */
  async closeConnections(): Promise<void> {
    const old = this.pooled;
    this.pooled = undefined;
    await old?.dispatcher.close();
  }

  /**
   * What the Agent is made of: the cluster entry, the user's certificate settings and the bytes of the
   * files they name. Undefined (no pooling) for an exec credential plugin, which may hand out a new
   * client certificate at any request.
   */
  private connectionKey(): string | undefined {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    if (user?.exec) return undefined;
    const h = createHash("sha256");
    h.update(JSON.stringify([cluster, user?.certFile, user?.certData, user?.keyFile, user?.keyData]));
    for (const file of [cluster?.caFile, user?.certFile, user?.keyFile]) h.update(file ? (bufferFromFileOrString(file) ?? "") : "\0");
    return h.digest("hex");
  }
}
