#!/usr/bin/env node
// Control plane process entry point: configuration in, wired ControlPlane out. Two modes differ only
// at the edges: where objects, CA material and callers' identities come from.
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAddr, DEFAULT_CLUSTER_DOMAIN } from "../shared/index.ts";
import { loadOrCreateCaDir } from "../shared/index.ts";
import { describeError } from "../shared/index.ts";
import { createLogger, type Logger } from "../shared/index.ts";
import type { CaMaterial } from "../shared/index.ts";
import { ControlPlane, type ControlPlaneOptions, type DiscoverySource } from "./app.ts";
import { exposedMajorGc } from "./push/burst-collector.ts";
import { BootstrapTokenAuthenticator, type Authenticator } from "./auth/authenticator.ts";
import { controlPlaneEndpoint, sidecarOptionsFor } from "../manifests/index.ts";
import { CaBundlePatcher } from "./injection/ca-bundle.ts";
import { WaypointController } from "./waypoints/controller.ts";
import { BootstrapTokens } from "./auth/bootstrap-tokens.ts";
import { TokenReviewAuthenticator } from "./auth/token-review.ts";
import { CachedAuthenticator } from "./auth/cached-authenticator.ts";
import { loadOrCreateKubeCa, publishRootCert } from "./ca/kube-ca.ts";
import { helpText, loadConfig, type ControlPlaneConfig } from "./config.ts";
import { FileSource } from "./discovery/file-source.ts";
import { KubeSource } from "./discovery/kube-source.ts";
import type { ObjectStore } from "./store/object-store.ts";
import { PolicyStatusWriter } from "./status-writer.ts";
import { RouteStatusWriter } from "./route-status.ts";
import { PooledKubeConfig } from "./kube-config.ts";
import { BootstrapTokenKeeper } from "./runners/bootstrap-token-keeper.ts";
import { PolicyStatusRunner } from "./runners/policy-status.ts";
import { RootCertPublisher } from "./runners/root-cert-publisher.ts";
import type { Runner } from "./runners/runner.ts";
import { WaypointSync } from "./runners/waypoint-sync.ts";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(helpText());
  process.exit(0);
}

interface ModeSetup {
  ca: CaMaterial;
  auth: (store: ObjectStore) => Authenticator;
  discovery: (store: ObjectStore) => DiscoverySource[];
  /** The side pipelines this mode runs: publishing the trust bundle, keeping bootstrap tokens, ... */
  runners: (cp: ControlPlane) => Runner[];
  /** Releases what the mode holds beyond the control plane (the API server connections). */
  close?: () => Promise<void>;
  /** Kubernetes mode with SIDECAR_IMAGE: the injection webhook. */
  injection?: ControlPlaneOptions["injection"];
}

async function fileMode(cfg: ControlPlaneConfig, log: Logger): Promise<ModeSetup> {
  const stateDir = cfg.STATE_DIR!;
  const ca = await loadOrCreateCaDir(cfg.CA_DIR ?? join(stateDir, "ca"), cfg.TRUST_DOMAIN);
  // Publish the trust bundle where proxies read it (in Kubernetes: a ConfigMap per enrolled namespace).
  const rootFile = join(stateDir, "root-cert.pem");
  await writeFile(`${rootFile}.tmp`, ca.rootPem);
  await rename(`${rootFile}.tmp`, rootFile);
  const tokens = new BootstrapTokens(join(stateDir, "tokens"), { ttlMs: cfg.BOOTSTRAP_TOKEN_TTL * 1000 });
  await tokens.ensure(
    cfg.BOOTSTRAP_NODES.split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  return {
    ca,
    auth: () => new BootstrapTokenAuthenticator((t) => tokens.lookup(t)),
    discovery: (store) => [new FileSource(cfg.CONFIG_DIR!, store, log)],
    runners: (cp) => [new BootstrapTokenKeeper({ store: cp.store, tokens, log })],
  };
}

async function kubernetesMode(cfg: ControlPlaneConfig, log: Logger): Promise<ModeSetup> {
  // One connection pool for every API call (client-node alone makes a new one per request: kube-config.ts).
  const kubeConfig = new PooledKubeConfig();
  try {
    kubeConfig.loadFromDefault(); // in-cluster service account, else KUBECONFIG / ~/.kube/config
  } catch (err) {
    throw new Error(`cannot load Kubernetes credentials (in-cluster service account, KUBECONFIG or ~/.kube/config): ${describeError(err)}`);
  }
  const ca = await loadOrCreateKubeCa({ kubeConfig, namespace: cfg.POD_NAMESPACE, trustDomain: cfg.TRUST_DOMAIN, log });
  const waypointController = cfg.WAYPOINT_IMAGE
    ? new WaypointController({
        kubeConfig,
        clusterDomain: DEFAULT_CLUSTER_DOMAIN,
        log,
        options: {
          image: cfg.WAYPOINT_IMAGE,
          pullPolicy: cfg.WAYPOINT_PULL_POLICY,
          ...controlPlaneEndpoint(cfg.POD_NAMESPACE, cfg.TRUST_DOMAIN),
          ...(cfg.XDS_SERVICE_ADDRESS ? { xdsAddress: cfg.XDS_SERVICE_ADDRESS } : {}),
          controlPlaneIdentity: `spiffe://${cfg.TRUST_DOMAIN}/ns/${cfg.POD_NAMESPACE}/sa/${cfg.SERVICE_ACCOUNT}`,
          logLevel: cfg.LOG_LEVEL,
        },
      })
    : undefined;
  if (!waypointController) log.info("WAYPOINT_IMAGE is not set: istio-waypoint Gateways get no Deployment from this control plane");
  if (!cfg.SIDECAR_IMAGE) log.info("SIDECAR_IMAGE is not set: no sidecar injection webhook (render-time injection still works)");
  const status = new PolicyStatusWriter(kubeConfig, log);
  const routeStatus = new RouteStatusWriter(kubeConfig, log);
  return {
    ca,
    // One TokenReview per token while it is trusted (cached-authenticator.ts), not one per CSR.
    auth: (store) =>
      new CachedAuthenticator(
        new TokenReviewAuthenticator({
          kubeConfig,
          allowed: cfg.PROXY_SERVICE_ACCOUNTS.split(",")
            .map((s) => s.trim())
            .filter(Boolean),
          nodeOfPod: (ns, name) => store.get("Pod", `${ns}/${name}`)?.spec?.nodeName,
        }),
      ),
    discovery: (store) => [new KubeSource({ kubeConfig, store, log })],
    runners: (cp) => [
      new PolicyStatusRunner({
        store: cp.store,
        builder: cp.builder,
        update: async (t, keys, waypointKeys, routes) => {
          await status.update(t, keys, waypointKeys);
          await routeStatus.update(routes, t.notes);
        },
        log,
      }),
      new RootCertPublisher({
        store: cp.store,
        ownNamespace: cfg.POD_NAMESPACE,
        publish: (namespaces) => publishRootCert({ kubeConfig, namespaces, rootPem: ca.rootPem, log }),
        log,
      }),
      ...(waypointController ? [new WaypointSync({ store: cp.store, sync: (gateways) => waypointController.sync(gateways), log })] : []),
      ...(cfg.SIDECAR_IMAGE ? [new CaBundlePatcher({ kubeConfig, rootPem: ca.rootPem, log })] : []),
    ],
    ...(cfg.SIDECAR_IMAGE
      ? {
          injection: {
            listen: parseAddr(cfg.WEBHOOK_ADDRESS),
            sidecar: sidecarOptionsFor({
              namespace: cfg.POD_NAMESPACE,
              trustDomain: cfg.TRUST_DOMAIN,
              image: cfg.SIDECAR_IMAGE,
              pullPolicy: cfg.SIDECAR_PULL_POLICY,
            }),
            dnsNames: [`istiod.${cfg.POD_NAMESPACE}.svc`, `istiod.${cfg.POD_NAMESPACE}.svc.${DEFAULT_CLUSTER_DOMAIN}`],
          },
        }
      : {}),
    close: () => kubeConfig.closeConnections(),
  };
}

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  const log = createLogger({ component: "control-plane", level: cfg.LOG_LEVEL });
  const mode = cfg.DISCOVERY === "kubernetes" ? await kubernetesMode(cfg, log) : await fileMode(cfg, log);
  const majorGc = cfg.AFTER_BURST_GC === "off" ? undefined : exposedMajorGc(cfg.AFTER_BURST_GC);
  if (!majorGc && cfg.AFTER_BURST_GC !== "off") log.info("run node with --expose-gc (the image does) to return the memory of a burst of proxy syncs promptly");
  const cp = new ControlPlane({
    listen: { grpc: parseAddr(cfg.GRPC_ADDRESS), admin: parseAddr(cfg.ADMIN_ADDRESS) },
    translate: { clusterId: cfg.CLUSTER_ID, trustDomain: cfg.TRUST_DOMAIN, rootNamespace: cfg.ROOT_NAMESPACE, clusterDomain: DEFAULT_CLUSTER_DOMAIN },
    identity: { trustDomain: cfg.TRUST_DOMAIN, namespace: cfg.POD_NAMESPACE, serviceAccount: cfg.SERVICE_ACCOUNT },
    ca: mode.ca,
    auth: mode.auth,
    log,
    debounceMs: cfg.DEBOUNCE,
    certTtlSeconds: cfg.DEFAULT_CERT_TTL,
    maxCertTtlSeconds: cfg.MAX_CERT_TTL,
    processMetrics: true,
    ...(majorGc ? { afterBurst: { collect: majorGc } } : {}),
    discovery: mode.discovery,
    runners: mode.runners,
    ...(mode.injection ? { injection: mode.injection } : {}),
  });
  await cp.start();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    void cp
      .stop()
      .then(() => mode.close?.())
      .then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`control-plane: ${describeError(err)}\n`);
  process.exit(1);
});
