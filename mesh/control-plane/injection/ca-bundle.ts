// Keeps the injection webhook's configuration trusting our serving certificate: every webhook of the
// MutatingWebhookConfiguration gets the mesh root as its clientConfig.caBundle. The rendered manifests
// leave caBundle out (so GitOps tools, which do not own the field, never reset it); the control plane
// sets it at start and checks it every 30 s (a configuration re-created or edited by hand is repaired).
import { CustomObjectsApi, type KubeConfig, type V1MutatingWebhookConfiguration } from "@kubernetes/client-node";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { Runner } from "../runners/runner.ts";

import { INJECTOR_CONFIGURATION } from "../../manifests/index.ts";

/** Pure: the configuration with every webhook's caBundle set, or undefined when all already are. */
export function withCaBundle(c: V1MutatingWebhookConfiguration, bundle: string): V1MutatingWebhookConfiguration | undefined {
  const hooks = c.webhooks ?? [];
  if (hooks.every((w) => w.clientConfig.caBundle === bundle)) return undefined;
  return { ...c, webhooks: hooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle: bundle } })) };
}

export class CaBundlePatcher implements Runner {
  readonly name = "webhook-ca-bundle";
  // The generic client: AdmissionregistrationV1Api and its models would add ~240 KB to the bundle.
  private readonly api: CustomObjectsApi;
  private readonly bundle: string;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private warned = false;
  private stopped = false;

  constructor(o: { kubeConfig: KubeConfig; rootPem: string; log: Logger; intervalMs?: number }) {
    this.api = o.kubeConfig.makeApiClient(CustomObjectsApi);
    this.bundle = Buffer.from(o.rootPem).toString("base64");
    this.log = o.log;
    this.intervalMs = o.intervalMs ?? 30_000;
  }

  start(): void {
    const tick = () => {
      this.running = this.check().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  /** One check: read the configuration, write it back with the bundle if any webhook lacks it. */
  async check(): Promise<void> {
    try {
      const at = { group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations", name: INJECTOR_CONFIGURATION };
      const current = (await this.api.getClusterCustomObject(at)) as V1MutatingWebhookConfiguration;
      const next = withCaBundle(current, this.bundle);
      if (!next) return;
      // A replace carries the resourceVersion read: a concurrent change makes it fail, and the next check retries.
      await this.api.replaceClusterCustomObject({ ...at, body: next });
      this.log.info({ configuration: INJECTOR_CONFIGURATION }, "injection webhook now trusts the mesh root (caBundle set)");
      this.warned = false;
    } catch (err) {
      if (!this.warned)
        this.log.warn(
          { err: describeError(err) },
          `could not set the caBundle of MutatingWebhookConfiguration ${INJECTOR_CONFIGURATION} (is it installed, and may the control plane get and update it?)`,
        );
      this.warned = true;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
