// The ztunnel program: configuration in, wired Ztunnel out (logic lives in app.ts). main.ts, the entry
// point, starts it once V8's efficiency mode is on (startup-efficiency.ts).
import { describeError } from "../shared/index.ts";
import { run } from "../shared/index.ts";
import { createLogger } from "../shared/index.ts";
import { Ztunnel } from "./app.ts";
import { helpText, loadConfig } from "./config.ts";
import { KernelNetwork, openSources, StateStore, type StartupEfficiency } from "../proxy/index.ts";
import { NftCapture, SidecarCapture } from "./redirect/capture.ts";

/** Runs ztunnel as its command line says (--help, --uninstall, or the proxy); `startup` ends with the first config. */
export function runZtunnel(startup: StartupEfficiency): void {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  // The one way capture rules are removed: they outlive every ztunnel (fail closed), so taking the mesh
  // off a node is an explicit act. Run it in the node's (or the pod's) network namespace as root.
  if (process.argv.includes("--uninstall")) {
    Promise.all([NftCapture.uninstall(run), SidecarCapture.uninstall(run)]).then(
      () => {
        process.stdout.write("ztunnel: capture rules removed (tables al_ztunnel and al_sidecar)\n");
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`ztunnel: ${describeError(err)}\n`);
        process.exit(1);
      },
    );
    return;
  }
  main(startup).catch((err) => {
    process.stderr.write(`ztunnel: ${describeError(err)}\n`);
    process.exit(1);
  });
}

async function main(startup: StartupEfficiency): Promise<void> {
  const cfg = loadConfig(process.env);
  const log = createLogger({ component: "ztunnel", level: cfg.logLevel }).child({ node: cfg.node });
  const store = new StateStore(cfg.rootNamespace);
  startup.endWhenConfigured([store], log);
  const { source, ca } = await openSources(
    cfg,
    { node: cfg.node, clusterId: cfg.clusterId, trustDomain: cfg.trustDomain, ...(cfg.sidecar ? { nodeId: `sidecar~${cfg.sidecar.podIp}` } : {}) },
    store,
    log,
  );
  const ports = { outbound: cfg.listen.outbound, inboundPlaintext: cfg.listen.inboundPlaintext, hbone: cfg.listen.hbone };
  const capture =
    cfg.redirect === "nft"
      ? new NftCapture({ node: cfg.node, ports, run, log })
      : cfg.redirect === "sidecar" && cfg.sidecar
        ? new SidecarCapture({
            podIp: cfg.sidecar.podIp,
            proxyUid: cfg.sidecar.proxyUid,
            ports: { ...ports, metrics: cfg.listen.metrics, readiness: cfg.listen.readiness },
            run,
            log,
          })
        : undefined;
  let exiting = false;
  const stopSource = () => source.close();
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
    tuning: { poolMaxStreams: cfg.poolMaxStreams, poolIdleMs: cfg.poolIdleMs, ...cfg.limits },
    drainDeadlineMs: cfg.drainDeadlineMs,
    ...(capture ? { capture } : {}),
    processMetrics: true,
    ...(cfg.sidecar ? { sidecarPodIp: cfg.sidecar.podIp } : {}),
    onQuit: () => {
      exiting = true;
      void stopSource().then(() => process.exit(0));
    },
  });
  // Listeners first, then capture, then config: traffic is only redirected to ports that exist.
  await zt.start();
  if (capture) await capture.install();
  // Sidecar mode: the rules exclude PROXY_UID's connections, so from here on run as that user.
  if (cfg.sidecar && process.getuid?.() === 0 && cfg.sidecar.proxyUid !== 0) {
    process.setgid!(cfg.sidecar.proxyUid);
    process.setuid!(cfg.sidecar.proxyUid);
    log.info({ uid: cfg.sidecar.proxyUid }, "capture installed; running as the proxy user");
  }
  await source.start();
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, "shutting down");
    void zt
      .stop()
      .then(() => stopSource())
      .then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
