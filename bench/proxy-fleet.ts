#!/usr/bin/env node
// ztunnel config-stream clients for the control-plane benchmark, outside the control plane's process
// (the benchmark starts one process per proxy, as each ztunnel is its own process on its own node).
// Prints "loaded" once its modules are loaded, connects when a line "go" arrives on stdin (so the
// measured sync is the control plane's and the proxies' work, not Node's start-up of N processes), prints
// "synced <ms since go> <CPU ms since go>" once every client holds the expected number of workloads, then, whenever the
// watched pod's version label changes, "seen <version> <epoch ms>".
//   node bench/proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads> <firstIndex> <watchedPodUid>
import { join } from "node:path";
import { createInterface } from "node:readline";
import { silentLogger } from "../mesh/shared/index.ts";
import { StateStore } from "../mesh/proxy/index.ts";
import { XdsClient } from "../mesh/proxy/index.ts";
import { controlPlaneTransport } from "../mesh/proxy/index.ts";

const [address, rootCertFile, tokenDir, count, expected, first = "0", watched = ""] = process.argv.slice(2);
if (!address || !rootCertFile || !tokenDir || !count || !expected) {
  process.stderr.write("usage: proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads> [firstIndex] [watchedPodUid]\n");
  process.exit(2);
}

function connect(k: number): StateStore {
  const i = Number(first) + k;
  const store = new StateStore();
  const transport = controlPlaneTransport({
    address: address!,
    rootCertFile: rootCertFile!,
    tokenFile: join(tokenDir!, `node-${i}.token`),
    expectedIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
  });
  void new XdsClient({ transport, node: `node-${i}`, clusterId: "Kubernetes", store, log: silentLogger() }).start();
  let last = "";
  store.subscribe((s) => {
    const w = s.workload(watched);
    if (w && w.canonicalRevision !== last) {
      last = w.canonicalRevision;
      process.stdout.write(`seen ${last} ${Date.now()}\n`);
    }
  });
  return store;
}

process.on("SIGTERM", () => process.exit(0));
const lines = createInterface({ input: process.stdin });
lines.once("line", () => {
  const go = performance.now();
  const cpu = process.cpuUsage();
  const stores = Array.from({ length: Number(count) }, (_, k) => connect(k));
  const timer = setInterval(() => {
    if (stores.every((s) => s.current.workloads.length >= Number(expected))) {
      const used = process.cpuUsage(cpu);
      process.stdout.write(`synced ${Math.round(performance.now() - go)} ${Math.round((used.user + used.system) / 1000)}\n`);
      clearInterval(timer);
    }
  }, 5);
});
process.stdout.write("loaded\n");
