// A packet capture on a node's uplink for the netns tests: what crossed the link between nodes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LocalCluster } from "../local/index.ts";

/** Starts tcpdump on `node`'s uplink and resolves once it listens; stop() returns the capture file's bytes. */
export async function captureUplink(cluster: LocalCluster, node: string, name: string): Promise<{ stop(): Promise<Buffer>; file: string }> {
  const file = join(cluster.spec.workDir, `${name}.pcap`);
  const dump = cluster.processes.start({
    name: `tcpdump-${name}`,
    netns: cluster.node(node).netns,
    cmd: "tcpdump",
    args: ["-i", "uplink", "--immediate-mode", "-U", "-n", "-Z", "root", "-w", file, "tcp"],
    logFile: join(cluster.spec.workDir, "logs", `tcpdump-${name}.log`),
  });
  const end = Date.now() + 5000;
  while (!readFileSync(dump.logFile, "utf8").includes("listening on") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return {
    file,
    async stop() {
      // Let the last packets reach the file before stopping.
      await new Promise((r) => setTimeout(r, 300));
      await cluster.processes.stop(`tcpdump-${name}`);
      return readFileSync(file);
    },
  };
}
