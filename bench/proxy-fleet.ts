#!/usr/bin/env node
// ztunnel config-stream clients for the control-plane benchmark, outside the control plane's process
// (the benchmark starts one process per proxy, as each ztunnel is its own process on its own node).
// Prints "loaded" once its modules are loaded, connects when a line "go" arrives on stdin (so the
// measured sync is the control plane's and the proxies' work, not Node's start-up of N processes), prints
// "synced <ms since go> <CPU ms since go>" once every client holds the expected number of workloads, then, whenever the
// watched pod's version label changes, "seen <version> <epoch ms>".
// With --receive-only the clients subscribe and ACK like a proxy but keep nothing: the sync's floor, what
// TLS, HTTP/2 and gRPC cost a Node.js process before any resource is read. With --index-only they also
// read the least any proxy must read to route: each resource's envelope and each address's IPs, into one
// map from IP to resource name (no validation, no workload objects, no policies read): the floor of a
// proxy that knows where each address is.
// Each process runs V8 in efficiency mode from its start until every client of it holds its first config,
// as ztunnel does (mesh/proxy/startup-efficiency.ts); --startup-efficiency=off keeps V8's defaults.
//   node bench/proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads> <firstIndex> <watchedPodUid> [--receive-only | --index-only] [--startup-efficiency=off]
import { join } from "node:path";
import { createInterface } from "node:readline";
import { StartupEfficiency } from "../mesh/proxy/startup-efficiency.ts";
import type { DeltaDiscoveryRequest } from "../mesh/api/index.ts";
import type { StateStore as Store } from "../mesh/proxy/index.ts";

// As ztunnel's main.ts: the mode first, then everything else is loaded.
const startup = StartupEfficiency.begin(!process.argv.includes("--startup-efficiency=off"));
const { create } = await import("@bufbuild/protobuf");
const { DeltaDiscoveryRequestSchema, envelopeAt, TYPE_ADDRESS, WireCursor } = await import("../mesh/api/index.ts");
const { AsyncQueue, silentLogger } = await import("../mesh/shared/index.ts");
const { configStream, controlPlaneEndpoint, StateStore, XdsClient, ZTUNNEL_TYPES } = await import("../mesh/proxy/index.ts");
const receiveOnly = process.argv.includes("--receive-only");
const indexOnly = process.argv.includes("--index-only");
const [address, rootCertFile, tokenDir, count, expected, first = "0", watched = ""] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (!address || !rootCertFile || !tokenDir || !count || !expected) {
  process.stderr.write("usage: proxy-fleet.ts <address> <rootCertFile> <tokenDir> <count> <expectedWorkloads> [firstIndex] [watchedPodUid]\n");
  process.exit(2);
}

function streamFor(i: number) {
  return configStream(
    controlPlaneEndpoint({
      address: address!,
      rootCertFile: rootCertFile!,
      tokenFile: join(tokenDir!, `node-${i}.token`),
      expectedIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
    }),
  );
}

/**
 * Each IP of an Address value (Workload field 4, Service field 4: both `addresses`/`vips`, in field 1 or 2
 * of the Address), mapped to the resource's name; every other field skipped unread.
 */
function indexAddress(bytes: Uint8Array, start: number, end: number, byIp: Map<string, string>): void {
  const e = envelopeAt(bytes, start, end);
  const r = new WireCursor(bytes, e.start, e.end);
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag >>> 3 !== 1 && tag >>> 3 !== 2) {
      r.skip(tag & 7, tag >>> 3, 99);
      continue;
    }
    const end = r.uint32() + r.pos;
    while (r.pos < end) {
      const t = r.tag();
      if (t >>> 3 === 4) byIp.set(r.string(), e.name);
      else r.skip(t & 7, t >>> 3, 98);
    }
  }
}

/** A client that subscribes and ACKs as XdsClient does and counts what arrives; synced once every type arrived. */
interface Client {
  synced: () => boolean;
  /** A full client's store (a receive-only or index-only one keeps none). */
  store?: Store;
}

function receive(k: number): Client {
  const i = Number(first) + k;
  const requests = new AsyncQueue<DeltaDiscoveryRequest>();
  ZTUNNEL_TYPES.forEach((typeUrl, n) =>
    requests.push(
      create(DeltaDiscoveryRequestSchema, {
        ...(n === 0 ? { node: { id: `ztunnel~node-${i}`, nodeName: `node-${i}`, clusterId: "Kubernetes" } } : {}),
        typeUrl,
        resourceNamesSubscribe: ["*"],
      }),
    ),
  );
  const arrived = new Set<string>();
  const byIp = new Map<string, string>();
  void (async () => {
    for await (const resp of streamFor(i)(requests, new AbortController().signal)) {
      if (indexOnly && resp.typeUrl === TYPE_ADDRESS)
        for (let k = 0; k < resp.ranges.length; k += 2) indexAddress(resp.bytes, resp.ranges[k]!, resp.ranges[k + 1]!, byIp);
      if (resp.ranges.length) arrived.add(resp.typeUrl);
      requests.push(create(DeltaDiscoveryRequestSchema, { typeUrl: resp.typeUrl, responseNonce: resp.nonce }));
    }
  })();
  return { synced: () => arrived.size === ZTUNNEL_TYPES.length };
}

function connect(k: number): Client {
  const i = Number(first) + k;
  const store = new StateStore();
  void new XdsClient({ stream: streamFor(i), node: `node-${i}`, clusterId: "Kubernetes", store, log: silentLogger() }).start();
  let last = "";
  store.subscribe((s) => {
    const w = s.workload(watched);
    if (w && w.canonicalRevision !== last) {
      last = w.canonicalRevision;
      process.stdout.write(`seen ${last} ${Date.now()}\n`);
    }
  });
  return { synced: () => store.current.workloads.length >= Number(expected), store };
}

process.on("SIGTERM", () => process.exit(0));
const lines = createInterface({ input: process.stdin });
lines.once("line", () => {
  const go = performance.now();
  const cpu = process.cpuUsage();
  const clients = Array.from({ length: Number(count) }, (_, k) => (receiveOnly || indexOnly ? receive(k) : connect(k)));
  // A proxy leaves efficiency mode with its first config; clients that keep no store, once all have arrived.
  const stores = clients.flatMap((c) => (c.store ? [c.store] : []));
  if (stores.length) startup.endWhenConfigured(stores);
  const timer = setInterval(() => {
    if (clients.every((c) => c.synced())) {
      const used = process.cpuUsage(cpu);
      startup.end();
      process.stdout.write(`synced ${Math.round(performance.now() - go)} ${Math.round((used.user + used.system) / 1000)}\n`);
      clearInterval(timer);
    }
  }, 5);
});
process.stdout.write("loaded\n");
