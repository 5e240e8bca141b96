// Applies the capture rules in the current network namespace and keeps them in step with the state.
import { ErrorCode, MeshError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logging.ts";
import type { CaptureRules } from "../app.ts";
import type { ProxyState } from "../state/snapshot.ts";
import { renderDelete, renderSetUpdate, renderTable, type CapturePorts } from "./rules.ts";

export type RunCommand = (cmd: string, args: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

/** IPv4 addresses of this node's enrolled workloads (HBONE through ztunnel): the pods whose traffic we capture. */
export function enrolledIps(state: ProxyState, node: string): string[] {
  return state
    .workloadsOn(node)
    .filter((w) => w.protocol === "HBONE" && !w.nativeHbone)
    .flatMap((w) => w.ips);
}

export class NftCapture implements CaptureRules {
  private installed = false;
  private current = "";
  private readonly node: string;
  private readonly ports: CapturePorts;
  private readonly run: RunCommand;
  private readonly log: Logger;

  constructor(opts: { node: string; ports: CapturePorts; run: RunCommand; log: Logger }) {
    this.node = opts.node;
    this.ports = opts.ports;
    this.run = opts.run;
    this.log = opts.log;
  }

  private async nft(script: string): Promise<void> {
    let r;
    try {
      r = await this.run("nft", ["-f", "-"], script);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      throw new MeshError(ErrorCode.Redirect, missing ? "nft is not installed: apt-get install nftables" : "could not run nft", { cause: err });
    }
    if (r.code !== 0) {
      throw new MeshError(ErrorCode.Redirect, `nft refused the capture rules (exit ${r.code}): ${r.stderr.trim()}; is this process root (CAP_NET_ADMIN) in the node's network namespace?`);
    }
  }

  async apply(state: ProxyState): Promise<void> {
    const ips = enrolledIps(state, this.node);
    const key = [...ips].sort().join(",");
    if (this.installed && key === this.current) return;
    await this.nft(this.installed ? renderSetUpdate(ips) : renderTable(ips, this.ports));
    this.installed = true;
    this.current = key;
    this.log.info({ enrolled: ips.length }, "capture rules updated");
  }

  /** Installs the table with no pods yet, so capture exists before the first pod is enrolled. */
  async install(): Promise<void> {
    await this.nft(renderTable([], this.ports));
    this.installed = true;
    this.current = "";
  }

  async remove(): Promise<void> {
    await this.nft(renderDelete());
    this.installed = false;
    this.log.info("capture rules removed");
  }
}
