#!/usr/bin/env node
// A fleet of ztunnel config-stream clients in one process, for the control-plane benchmark: it keeps
// the proxies' memory and CPU out of the control plane's measurements. Prints "synced" once every
// proxy holds the expected number of workloads, then runs until killed.
//   node bench/proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads>
import { join } from "node:path";
import { silentLogger } from "../mesh/shared/logging.ts";
import { StateStore } from "../mesh/ztunnel/state/store.ts";
import { XdsClient } from "../mesh/ztunnel/xds/client.ts";
import { controlPlaneTransport } from "../mesh/ztunnel/xds/transport.ts";

const [address, rootCertFile, tokenDir, count, expected] = process.argv.slice(2);
if (!address || !rootCertFile || !tokenDir || !count || !expected) {
  process.stderr.write("usage: proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads>\n");
  process.exit(2);
}
const stores = Array.from({ length: Number(count) }, (_, i) => {
  const store = new StateStore();
  const transport = controlPlaneTransport({ address, rootCertFile, tokenFile: join(tokenDir, `node-${i}.token`), expectedIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod" });
  new XdsClient({ transport, node: `node-${i}`, clusterId: "Kubernetes", store, log: silentLogger() }).start();
  return store;
});
const timer = setInterval(() => {
  if (stores.every((s) => s.current.workloads.length >= Number(expected))) {
    process.stdout.write("synced\n");
    clearInterval(timer);
  }
}, 20);
process.on("SIGTERM", () => process.exit(0));
