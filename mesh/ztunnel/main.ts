#!/usr/bin/env node
// ztunnel process entry point: configuration in, wired Ztunnel out. Logic lives in app.ts.
import { describeError } from "../shared/errors.ts";
import { run } from "../shared/exec.ts";
import { createLogger } from "../shared/logging.ts";
import { Ztunnel } from "./app.ts";
import { helpText, loadConfig } from "./config.ts";
import { FileCaClient } from "./identity/file-ca.ts";
import { KernelNetwork } from "./proxy/network.ts";
import { NftCapture } from "./redirect/capture.ts";
import { LocalConfigSource } from "./state/file-source.ts";
import { StateStore } from "./state/store.ts";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(helpText());
  process.exit(0);
}

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  const log = createLogger({ component: "ztunnel", level: cfg.logLevel }).child({ node: cfg.node });
  const store = new StateStore(cfg.rootNamespace);
  const source = new LocalConfigSource(cfg.localConfig, store, log);
  const ca = await FileCaClient.open(cfg.caDir, cfg.trustDomain);
  const capture =
    cfg.redirect === "nft"
      ? new NftCapture({ node: cfg.node, ports: { outbound: cfg.listen.outbound, inboundPlaintext: cfg.listen.inboundPlaintext, hbone: cfg.listen.hbone }, run, log })
      : undefined;
  let exiting = false;
  const zt = new Ztunnel({
    node: cfg.node,
    trustDomain: cfg.trustDomain,
    clusterId: cfg.clusterId,
    listen: cfg.listen,
    state: store,
    ca,
    certTtlSeconds: cfg.certTtlSeconds,
    network: new KernelNetwork(cfg.listen.hbone),
    log,
    tuning: { poolMaxStreams: cfg.poolMaxStreams, poolIdleMs: cfg.poolIdleMs },
    drainDeadlineMs: cfg.drainDeadlineMs,
    ...(capture ? { capture } : {}),
    processMetrics: true,
    onQuit: () => {
      exiting = true;
      void source.close().then(() => process.exit(0));
    },
  });
  // Listeners first, then capture, then config: traffic is only redirected to ports that exist.
  await zt.start();
  if (capture) await capture.install();
  await source.start();
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, "shutting down");
    void zt
      .stop()
      .then(() => source.close())
      .then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`ztunnel: ${describeError(err)}\n`);
  process.exit(1);
});
