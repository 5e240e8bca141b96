#!/usr/bin/env node
// ztunnel config-stream clients for the control-plane benchmark, outside the control plane's process
// (the benchmark starts one process per proxy, as each ztunnel is its own process on its own node).
// Prints "synced" once every client holds the expected number of workloads, then, whenever the watched
// pod's version label changes, "seen <version> <epoch ms>".
//   node bench/proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads> <firstIndex> <watchedPodUid>
import { join } from "node:path";
import { silentLogger } from "../mesh/shared/index.ts";
import { StateStore } from "../mesh/proxy/index.ts";
import { XdsClient } from "../mesh/proxy/index.ts";
import { controlPlaneTransport } from "../mesh/proxy/index.ts";

const [address, rootCertFile, tokenDir, count, expected, first = "0", watched = ""] = process.argv.slice(2);
if (!address || !rootCertFile || !tokenDir || !count || !expected) {
  process.stderr.write("usage: proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads> [firstIndex] [watchedPodUid]\n");
  process.exit(2);
}
const stores = Array.from({ length: Number(count) }, (_, k) => {
  const i = Number(first) + k;
  const store = new StateStore();
  const transport = controlPlaneTransport({
    address,
    rootCertFile,
    tokenFile: join(tokenDir, `node-${i}.token`),
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
});
const timer = setInterval(() => {
  if (stores.every((s) => s.current.workloads.length >= Number(expected))) {
    process.stdout.write("synced\n");
    clearInterval(timer);
  }
}, 20);
process.on("SIGTERM", () => process.exit(0));
