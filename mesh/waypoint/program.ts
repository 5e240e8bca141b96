// The waypoint program: configuration in, wired Waypoint out (logic lives in app.ts). main.ts, the entry
// point, starts it once V8's efficiency mode is on (startup-efficiency.ts).
import { describeError } from "../shared/index.ts";
import { createLogger } from "../shared/index.ts";
import { KernelNetwork, openSources, StateStore, WAYPOINT_TYPES, type StartupEfficiency } from "../proxy/index.ts";
import { Waypoint } from "./app.ts";
import { helpText, loadWaypointConfig } from "./config.ts";

/** Runs the waypoint as its command line says (--help, or the proxy); `startup` ends with the first config. */
export function runWaypoint(startup: StartupEfficiency): void {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  main(startup).catch((err) => {
    process.stderr.write(`waypoint: ${describeError(err)}\n`);
    process.exit(1);
  });
}

async function main(startup: StartupEfficiency): Promise<void> {
  const cfg = loadWaypointConfig(process.env);
  const gw = `${cfg.gateway.namespace}/${cfg.gateway.name}`;
  const log = createLogger({ component: "waypoint", level: cfg.logLevel }).child({ gateway: gw });
  const store = new StateStore();
  startup.endWhenConfigured([store], log);
  const { source, ca } = await openSources(
    cfg,
    { node: gw, nodeId: `waypoint~${gw}`, types: WAYPOINT_TYPES, clusterId: cfg.clusterId, trustDomain: cfg.trustDomain },
    store,
    log,
  );
  let exiting = false;
  const stopSource = () => source.close();
  const wp = new Waypoint({
    gateway: cfg.gateway,
    identity: { trustDomain: cfg.trustDomain, namespace: cfg.gateway.namespace, serviceAccount: cfg.serviceAccount },
    listen: cfg.listen,
    state: store,
    ca,
    certTtlSeconds: cfg.certTtlSeconds,
    network: new KernelNetwork(),
    log,
    ...(cfg.accessLog ? { accessLog: log.child({ target: "access" }) } : {}),
    drainDeadlineMs: cfg.drainDeadlineMs,
    tuning: cfg.limits,
    processMetrics: true,
    onQuit: () => {
      exiting = true;
      void stopSource().then(() => process.exit(0));
    },
  });
  await wp.start();
  await source.start();
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, "shutting down");
    void wp
      .stop()
      .then(() => stopSource())
      .then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
