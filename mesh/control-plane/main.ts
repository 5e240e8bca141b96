#!/usr/bin/env node
// Control plane process entry point: configuration in, wired ControlPlane out.
import { writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { parseAddr } from "../shared/addr.ts";
import { loadOrCreateCaDir } from "../shared/ca-dir.ts";
import { describeError } from "../shared/errors.ts";
import { createLogger } from "../shared/logging.ts";
import { ControlPlane } from "./app.ts";
import { BootstrapTokenAuthenticator } from "./auth/authenticator.ts";
import { BootstrapTokens } from "./auth/bootstrap-tokens.ts";
import { helpText, loadConfig } from "./config.ts";
import { FileSource } from "./discovery/file-source.ts";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(helpText());
  process.exit(0);
}

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  const log = createLogger({ component: "control-plane", level: cfg.LOG_LEVEL });
  if (cfg.DISCOVERY === "kubernetes") {
    throw new Error("DISCOVERY=kubernetes: the Kubernetes discovery source is not wired into this entry point yet; use DISCOVERY=files");
  }
  const stateDir = cfg.STATE_DIR!;
  const ca = await loadOrCreateCaDir(cfg.CA_DIR ?? join(stateDir, "ca"), cfg.TRUST_DOMAIN);
  // Publish the trust bundle where proxies read it (in Kubernetes: a ConfigMap per enrolled namespace).
  const rootFile = join(stateDir, "root-cert.pem");
  await writeFile(`${rootFile}.tmp`, ca.rootPem);
  await rename(`${rootFile}.tmp`, rootFile);
  const tokens = new BootstrapTokens(join(stateDir, "tokens"));
  await tokens.ensure(cfg.BOOTSTRAP_NODES.split(",").map((s) => s.trim()).filter(Boolean));
  const cp = new ControlPlane({
    listen: { grpc: parseAddr(cfg.GRPC_ADDRESS), admin: parseAddr(cfg.ADMIN_ADDRESS) },
    translate: { clusterId: cfg.CLUSTER_ID, trustDomain: cfg.TRUST_DOMAIN, rootNamespace: cfg.ROOT_NAMESPACE, clusterDomain: "cluster.local" },
    identity: { trustDomain: cfg.TRUST_DOMAIN, namespace: cfg.POD_NAMESPACE, serviceAccount: cfg.SERVICE_ACCOUNT },
    ca,
    auth: new BootstrapTokenAuthenticator(() => tokens.map()),
    log,
    debounceMs: cfg.DEBOUNCE,
    certTtlSeconds: cfg.DEFAULT_CERT_TTL,
    maxCertTtlSeconds: cfg.MAX_CERT_TTL,
    processMetrics: true,
    discovery: (store) => [new FileSource(cfg.CONFIG_DIR!, store, log)],
  });
  // Nodes that appear in the config get a bootstrap token too.
  cp.store.subscribe(() => {
    const snap = cp.store.snapshot();
    const nodes = new Set([...snap.Node.map((n) => n.metadata?.name ?? ""), ...snap.Pod.map((p) => p.spec?.nodeName ?? "")].filter(Boolean));
    void tokens.ensure([...nodes]).catch((err) => log.error({ err: describeError(err) }, "writing bootstrap tokens failed"));
  });
  await cp.start();
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
