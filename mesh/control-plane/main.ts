#!/usr/bin/env node
// Control plane process entry point: configuration in, wired ControlPlane out. Two modes differ only
// at the edges: where objects, CA material and callers' identities come from.
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAddr } from "../shared/index.ts";
import { loadOrCreateCaDir } from "../shared/index.ts";
import { describeError } from "../shared/index.ts";
import { createLogger, type Logger } from "../shared/index.ts";
import type { CaMaterial } from "../shared/index.ts";
import { ControlPlane, type DiscoverySource } from "./app.ts";
import { BootstrapTokenAuthenticator, identityTokenName, type Authenticator } from "./auth/authenticator.ts";
import { controlPlaneEndpoint } from "../manifests/index.ts";
import { WaypointController } from "./waypoints/controller.ts";
import { isWaypointGateway } from "./waypoints/objects.ts";
import { BootstrapTokens } from "./auth/bootstrap-tokens.ts";
import { TokenReviewAuthenticator } from "./auth/token-review.ts";
import { loadOrCreateKubeCa, publishRootCert } from "./ca/kube-ca.ts";
import { helpText, loadConfig, type ControlPlaneConfig } from "./config.ts";
import { FileSource } from "./discovery/file-source.ts";
import { KubeSource } from "./discovery/kube-source.ts";
import type { ObjectStore } from "./store/object-store.ts";
import { PolicyStatusWriter } from "./status-writer.ts";
import { isEnrolled, LABELS } from "./translate/index.ts";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(helpText());
  process.exit(0);
}

interface ModeSetup {
  ca: CaMaterial;
  auth: (store: () => ObjectStore) => Authenticator;
  discovery: (store: ObjectStore) => DiscoverySource[];
  /** Runs once the control plane is up: publishing the trust bundle, issuing bootstrap tokens. */
  afterStart: (cp: ControlPlane) => void;
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
  // Rotation at half-life; the previous token stays valid until it expires.
  setInterval(
    () => void tokens.rotate().catch((err) => log.error({ err: describeError(err) }, "rotating bootstrap tokens failed")),
    tokens.rotationCheckMs,
  ).unref();
  return {
    ca,
    auth: () => new BootstrapTokenAuthenticator((t) => tokens.lookup(t)),
    discovery: (store) => [new FileSource(cfg.CONFIG_DIR!, store, log)],
    afterStart: (cp) =>
      // Nodes that appear in the config get a bootstrap token too, and so does each waypoint's
      // service account (named after its Gateway, as Istio names it).
      cp.store.subscribe(() => {
        const snap = cp.store.snapshot();
        const nodes = new Set([...snap.Node.map((n) => n.metadata?.name ?? ""), ...snap.Pod.map((p) => p.spec?.nodeName ?? "")].filter(Boolean));
        const waypoints = snap.Gateway.filter((g) => g.spec?.gatewayClassName === "istio-waypoint").map((g) =>
          identityTokenName(g.metadata?.namespace ?? "", g.metadata?.name ?? ""),
        );
        // Pods with a sidecar proxy authenticate as their own service account.
        const sidecars = snap.Pod.filter((p) => p.metadata?.labels?.[LABELS.proxy] === "sidecar").map((p) =>
          identityTokenName(p.metadata?.namespace ?? "", p.spec?.serviceAccountName || "default"),
        );
        void tokens
          .ensure([...new Set([...nodes, ...waypoints, ...sidecars])])
          .catch((err) => log.error({ err: describeError(err) }, "writing bootstrap tokens failed"));
      }),
  };
}

async function kubernetesMode(cfg: ControlPlaneConfig, log: Logger): Promise<ModeSetup> {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault(); // in-cluster service account, else KUBECONFIG / ~/.kube/config
  } catch (err) {
    throw new Error(`cannot load Kubernetes credentials (in-cluster service account, KUBECONFIG or ~/.kube/config): ${describeError(err)}`);
  }
  const ca = await loadOrCreateKubeCa({ kubeConfig, namespace: cfg.POD_NAMESPACE, trustDomain: cfg.TRUST_DOMAIN, log });
  return {
    ca,
    auth: (store) =>
      new TokenReviewAuthenticator({
        kubeConfig,
        allowed: cfg.PROXY_SERVICE_ACCOUNTS.split(",")
          .map((s) => s.trim())
          .filter(Boolean),
        nodeOfPod: (ns, name) => store().get("Pod", `${ns}/${name}`)?.spec?.nodeName,
      }),
    discovery: (store) => [new KubeSource({ kubeConfig, store, log })],
    afterStart: (cp) => {
      const status = new PolicyStatusWriter(kubeConfig, log);
      if (cfg.WAYPOINT_IMAGE) {
        const waypoints = new WaypointController({
          kubeConfig,
          clusterDomain: "cluster.local",
          log,
          options: {
            image: cfg.WAYPOINT_IMAGE,
            pullPolicy: cfg.WAYPOINT_PULL_POLICY,
            ...controlPlaneEndpoint(cfg.POD_NAMESPACE, cfg.TRUST_DOMAIN),
            ...(cfg.XDS_SERVICE_ADDRESS ? { xdsAddress: cfg.XDS_SERVICE_ADDRESS } : {}),
            controlPlaneIdentity: `spiffe://${cfg.TRUST_DOMAIN}/ns/${cfg.POD_NAMESPACE}/sa/${cfg.SERVICE_ACCOUNT}`,
            logLevel: cfg.LOG_LEVEL,
          },
        });
        let deploying = Promise.resolve();
        cp.store.subscribe((kinds) => {
          if (kinds.has("Gateway")) deploying = deploying.then(() => waypoints.sync(cp.store.snapshot().Gateway));
        });
        deploying = deploying.then(() => waypoints.sync(cp.store.snapshot().Gateway));
      } else {
        log.info("WAYPOINT_IMAGE is not set: istio-waypoint Gateways get no Deployment from this control plane");
      }
      let writing = Promise.resolve();
      cp.builder.subscribe((snap) => {
        const aps = cp.store.snapshot().AuthorizationPolicy;
        const keys = aps.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
        const waypointKeys = new Set(
          aps.filter((p) => p.spec?.targetRef || p.spec?.targetRefs?.length).map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
        );
        writing = writing.then(() => status.update(snap.translation, keys, waypointKeys));
      });
      let published = "";
      let timer: NodeJS.Timeout | undefined;
      cp.store.subscribe(() => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const snap = cp.store.snapshot();
          const byName = new Map(snap.Namespace.map((n) => [n.metadata?.name ?? "", n]));
          const enrolled = [
            ...new Set(snap.Pod.filter((p) => isEnrolled(p, byName.get(p.metadata?.namespace ?? ""))).map((p) => p.metadata?.namespace ?? "")),
          ].sort();
          const labelled = snap.Namespace.filter((n) => n.metadata?.labels?.["istio.io/dataplane-mode"] === "ambient").map((n) => n.metadata?.name ?? "");
          // Waypoints read it too, in their Gateway's namespace.
          const withWaypoints = snap.Gateway.filter(isWaypointGateway).map((g) => g.metadata?.namespace ?? "");
          // And pods with our sidecar.
          const withSidecars = snap.Pod.filter((p) => p.metadata?.labels?.[LABELS.proxy] === "sidecar").map((p) => p.metadata?.namespace ?? "");
          // Our own namespace too: ztunnel (running there) reads the root from it.
          const namespaces = [...new Set([...enrolled, ...labelled, ...withWaypoints, ...withSidecars, cfg.POD_NAMESPACE])].filter(Boolean).sort();
          if (namespaces.join(",") === published) return;
          published = namespaces.join(",");
          void publishRootCert({ kubeConfig, namespaces, rootPem: ca.rootPem, log });
        }, 500);
      });
    },
  };
}

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  const log = createLogger({ component: "control-plane", level: cfg.LOG_LEVEL });
  const mode = cfg.DISCOVERY === "kubernetes" ? await kubernetesMode(cfg, log) : await fileMode(cfg, log);
  let storeRef: ObjectStore | undefined;
  const cp = new ControlPlane({
    listen: { grpc: parseAddr(cfg.GRPC_ADDRESS), admin: parseAddr(cfg.ADMIN_ADDRESS) },
    translate: { clusterId: cfg.CLUSTER_ID, trustDomain: cfg.TRUST_DOMAIN, rootNamespace: cfg.ROOT_NAMESPACE, clusterDomain: "cluster.local" },
    identity: { trustDomain: cfg.TRUST_DOMAIN, namespace: cfg.POD_NAMESPACE, serviceAccount: cfg.SERVICE_ACCOUNT },
    ca: mode.ca,
    auth: mode.auth(() => storeRef!),
    log,
    debounceMs: cfg.DEBOUNCE,
    certTtlSeconds: cfg.DEFAULT_CERT_TTL,
    maxCertTtlSeconds: cfg.MAX_CERT_TTL,
    processMetrics: true,
    discovery: (store) => {
      storeRef = store;
      return mode.discovery(store);
    },
  });
  await cp.start();
  mode.afterStart(cp);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    void cp.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`control-plane: ${describeError(err)}\n`);
  process.exit(1);
});
