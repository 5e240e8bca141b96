// Applies the capture rules in the current network namespace and keeps them in step with the state.
import { ErrorCode, MeshError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { CaptureRules } from "../app.ts";
import { servesFor } from "../proxy/context.ts";
import type { ProxyState } from "../../proxy/index.ts";
import { renderDelete, renderSetUpdate, renderSidecarTable, renderTable, SIDECAR_TABLE, type CapturePorts, type SidecarPorts } from "./rules.ts";

export type RunCommand = (cmd: string, args: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Addresses of the workloads this node's ztunnel serves: the pods whose traffic we capture. */
export function enrolledIps(state: ProxyState, node: string): string[] {
  return state.workloadsWhere(servesFor(node)).flatMap((w) => w.ips);
}

async function nft(run: RunCommand, script: string): Promise<void> {
  let r;
  try {
    r = await run("nft", ["-f", "-"], script);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new MeshError(ErrorCode.Redirect, missing ? "nft is not installed: apt-get install nftables" : "could not run nft", { cause: err });
  }
  if (r.code !== 0) {
    throw new MeshError(
      ErrorCode.Redirect,
      `nft refused the capture rules (exit ${r.code}): ${r.stderr.trim()}; is this process root (CAP_NET_ADMIN) in the node's or pod's network namespace?`,
    );
  }
}

/** Sidecar mode: fixed rules for the one pod, installed at start; they outlive the proxy (fail closed). */
export class SidecarCapture implements CaptureRules {
  private readonly podIp: string;
  private readonly ports: SidecarPorts;
  private readonly proxyUid: number;
  private readonly run: RunCommand;
  private readonly log: Logger;

  constructor(opts: { podIp: string; ports: SidecarPorts; proxyUid: number; run: RunCommand; log: Logger }) {
    this.podIp = opts.podIp;
    this.ports = opts.ports;
    this.proxyUid = opts.proxyUid;
    this.run = opts.run;
    this.log = opts.log;
  }

  /** Needs CAP_NET_ADMIN; main.ts then drops to PROXY_UID, whose connections the rules exclude. */
  async install(): Promise<void> {
    await nft(this.run, renderSidecarTable(this.podIp, this.ports, this.proxyUid));
    this.log.info({ pod: this.podIp, proxyUid: this.proxyUid }, "sidecar capture rules installed");
  }

  async apply(): Promise<void> {
    // The rules name only the pod itself; config changes do not touch them.
  }

  // No removal on exit: the rules live as long as the pod's network namespace (as Istio's sidecar
  // rules do): after dropping privileges the proxy could not delete them, and the pod's traffic must
  // not leak past a restarting proxy.

  /** Deletes the rules; for tools that own the namespace (tests, ambientctl). */
  static uninstall(run: RunCommand): Promise<void> {
    return nft(run, renderDelete(SIDECAR_TABLE));
  }
}

export class NftCapture implements CaptureRules {
  private installed = false;
  /** The enrolled set this ztunnel last wrote; undefined until its first config (the set may be inherited). */
  private current: string | undefined;
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

  private nft(script: string): Promise<void> {
    return nft(this.run, script);
  }

  async apply(state: ProxyState): Promise<void> {
    const ips = enrolledIps(state, this.node);
    const key = [...ips].sort().join(",");
    if (this.installed && key === this.current) return;
    if (!this.installed) await this.install();
    await this.nft(renderSetUpdate(ips));
    this.current = key;
    this.log.info({ enrolled: ips.length }, "capture rules updated");
  }

  /**
   * Installs the chains, taking over a table an earlier ztunnel left (its enrolled set is kept until
   * this ztunnel's first config replaces it), so capture never lapses across a restart.
   */
  async install(): Promise<void> {
    await this.nft(renderTable(this.ports));
    this.installed = true;
    this.current = undefined;
    this.log.info("capture rules installed (an existing table's enrolled pods are kept until config arrives)");
  }

  // No removal on exit: the rules stay while the ztunnel drains, exits, crashes or restarts, so
  // enrolled pods' traffic is refused rather than sent in plaintext (fail closed).

  /** Deletes the table: only for an explicit uninstall (`ztunnel --uninstall`, ambientctl local down). */
  static uninstall(run: RunCommand): Promise<void> {
    return nft(run, renderDelete());
  }
}
