// In-process harness: several ztunnels on loopback sharing a test CA and one static config.
//   const mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config: yaml });
//   const s = await mesh.dial("127.0.1.10", { ip: "127.0.2.10", port: 8080 });
import type net from "node:net";
import type { SockAddr } from "../shared/index.ts";
import { memoryLogger, silentLogger, type Logger } from "../shared/index.ts";
import { createRootCa, type CaMaterial } from "../shared/index.ts";
import { Ztunnel, type ZtunnelOptions } from "../ztunnel/index.ts";
import { FileCaClient } from "../proxy/index.ts";
import type { ProxyTuning } from "../proxy/index.ts";
import { parseLocalConfig, toResources } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";
import { LoopbackNetwork } from "./loopback-network.ts";

export interface InProcessMesh {
  ca: CaMaterial;
  network: LoopbackNetwork;
  ztunnels: Map<string, Ztunnel>;
  stores: Map<string, StateStore>;
  logs: Map<string, Array<Record<string, unknown>>>;
  ztunnel(node: string): Ztunnel;
  /** Applies new config text to every ztunnel. */
  setConfig(yaml: string): void;
  /** A connection from a pod as its node's outbound capture would see it. */
  dial(srcIp: string, dst: SockAddr): Promise<net.Socket>;
  /** A plaintext connection from outside the mesh, captured by the destination node's 15006. */
  dialPlaintext(srcIp: string, dst: SockAddr): Promise<net.Socket>;
  close(): Promise<void>;
}

export async function inProcessMesh(opts: {
  nodes: string[];
  config: string;
  trustDomain?: string;
  tuning?: Partial<ProxyTuning>;
  drainDeadlineMs?: number;
  logs?: boolean;
  extra?: Partial<ZtunnelOptions>;
}): Promise<InProcessMesh> {
  const trustDomain = opts.trustDomain ?? "cluster.local";
  const ca = await createRootCa({ trustDomain });
  const network = new LoopbackNetwork();
  const ztunnels = new Map<string, Ztunnel>();
  const stores = new Map<string, StateStore>();
  const logs = new Map<string, Array<Record<string, unknown>>>();
  const apply = (yaml: string) => {
    const parsed = parseLocalConfig(yaml);
    if (parsed.rejected.length) throw new Error(`test config rejected: ${JSON.stringify(parsed.rejected)}`);
    for (const w of parsed.workloads) {
      const zt = ztunnels.get(w.node);
      if (zt) for (const ip of w.ips) network.hboneListeners.set(ip, zt.addresses().hbone);
    }
    for (const s of stores.values()) s.replace(toResources(parsed));
  };
  for (const [i, node] of opts.nodes.entries()) {
    const store = new StateStore();
    stores.set(node, store);
    let log: Logger = silentLogger();
    if (opts.logs) {
      const m = memoryLogger("debug");
      log = m.logger;
      logs.set(node, m.records);
    }
    const zt = new Ztunnel({
      node,
      trustDomain,
      listen: { host: `127.0.${200 + i}.1`, outbound: 0, inboundPlaintext: 0, hbone: 0, metrics: 0, readiness: 0, admin: 0 },
      state: store,
      ca: FileCaClient.fromMaterial(ca),
      network,
      log,
      tuning: opts.tuning ?? {},
      drainDeadlineMs: opts.drainDeadlineMs ?? 1000,
      ...opts.extra,
    });
    await zt.start();
    ztunnels.set(node, zt);
  }
  apply(opts.config);
  const nodeOfIp = (ip: string): Ztunnel => {
    for (const [node, store] of stores) {
      const w = store.current.workloadByIp(ip);
      if (w) return ztunnels.get(w.node) ?? ztunnels.get(node)!;
    }
    throw new Error(`no workload has address ${ip}`);
  };
  return {
    ca,
    network,
    ztunnels,
    stores,
    logs,
    ztunnel: (node) => ztunnels.get(node)!,
    setConfig: apply,
    dial: (srcIp, dst) => network.dialCaptured(srcIp, nodeOfIp(srcIp).addresses().outbound, dst),
    dialPlaintext: (srcIp, dst) => network.dialCaptured(srcIp, nodeOfIp(dst.ip).addresses().inboundPlaintext, dst),
    close: async () => {
      await Promise.all([...ztunnels.values()].map((z) => z.stop(0)));
    },
  };
}
