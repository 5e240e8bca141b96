// Node-level capture rules as one nftables table, rendered by pure functions (golden-tested) and
// applied in single `nft -f` transactions, so the ruleset is never half-updated.
//
// In the node's network namespace, for the enrolled (HBONE) pods on this node:
//   prerouting: TCP from an enrolled pod             -> 15001 (outbound capture)
//               TCP to an enrolled pod's 15008       -> 15008 (inbound HBONE)
//               other TCP to an enrolled pod         -> 15006 (inbound plaintext)
//   output:     ztunnel's own HBONE to a local pod   -> 15008 (same-node traffic still crosses HBONE)
// ztunnel's other connections are locally generated, never pass prerouting, and so are not captured.
// The chains hook at priority -110 (dstnat - 10, spelled numerically for older nft), before kube-proxy's dstnat chains: once we NAT, theirs are skipped.
import net from "node:net";

export interface CapturePorts {
  outbound: number;
  inboundPlaintext: number;
  hbone: number;
}

export const TABLE = "al_ztunnel";

function elements(ips: readonly string[]): string {
  const v4 = [...new Set(ips.filter((ip) => net.isIPv4(ip)))].sort(compareIp);
  return v4.length ? ` elements = { ${v4.join(", ")} }` : "";
}

function compareIp(a: string, b: string): number {
  const n = (ip: string) => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

/**
 * The whole table, installed by a starting ztunnel. It takes over an earlier copy (left by a ztunnel
 * that exited, crashed or is being replaced) in one transaction: the chains are rewritten, but the
 * enrolled set keeps its members, so there is no moment in which enrolled pods' traffic is not
 * captured. Until the new ztunnel has config, their connections reach its listeners and are refused
 * (fail closed). Only an explicit uninstall deletes the table (renderDelete).
 */
export function renderTable(ports: CapturePorts, table = TABLE): string {
  return [
    `table ip ${table} {`,
    `  set enrolled {`,
    `    type ipv4_addr;`,
    `  }`,
    `  chain prerouting {`,
    `    type nat hook prerouting priority -110; policy accept;`,
    `  }`,
    `  chain output {`,
    `    type nat hook output priority -110; policy accept;`,
    `  }`,
    `}`,
    `flush chain ip ${table} prerouting`,
    `flush chain ip ${table} output`,
    `add rule ip ${table} prerouting ip saddr @enrolled meta l4proto tcp redirect to :${ports.outbound}`,
    `add rule ip ${table} prerouting ip daddr @enrolled tcp dport ${ports.hbone} redirect to :${ports.hbone}`,
    `add rule ip ${table} prerouting ip daddr @enrolled meta l4proto tcp redirect to :${ports.inboundPlaintext}`,
    `add rule ip ${table} output ip daddr @enrolled tcp dport ${ports.hbone} redirect to :${ports.hbone}`,
    ``,
  ].join("\n");
}

/** Replaces the enrolled set's members in one transaction; the chains are untouched. */
export function renderSetUpdate(enrolled: readonly string[], table = TABLE): string {
  const el = elements(enrolled);
  return [`flush set ip ${table} enrolled`, ...(el ? [`add element ip ${table} enrolled {${el.replace(" elements = {", "")}`] : []), ``].join("\n");
}

export function renderDelete(table = TABLE): string {
  return `table ip ${table} {}\ndelete table ip ${table}\n`;
}

export const SIDECAR_TABLE = "al_sidecar";

export interface SidecarPorts extends CapturePorts {
  /** Served to the kubelet and Prometheus directly, never captured. */
  metrics: number;
  readiness: number;
}

/**
 * Sidecar mode: the rules in one pod's network namespace, where ztunnel runs beside the application
 * as user `proxyUid` (Istio's sidecar model).
 *   output:     the application's TCP (not ztunnel's own, not loopback, not to itself) -> 15001
 *   prerouting: inbound TCP to 15008                                    -> 15008 (HBONE)
 *               inbound TCP to metrics/readiness                        -> untouched
 *               other inbound TCP                                       -> 15006 (plaintext)
 * Redirecting 15008 to itself gives the connection a NAT entry, so SO_ORIGINAL_DST answers.
 */
export function renderSidecarTable(podIp: string, ports: SidecarPorts, proxyUid: number, table = SIDECAR_TABLE): string {
  if (!net.isIPv4(podIp)) throw new Error(`sidecar capture needs the pod's IPv4 address, got "${podIp}"`);
  return [
    `table ip ${table} {}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  chain output {`,
    `    type nat hook output priority -110; policy accept;`,
    `    meta skuid ${proxyUid} return`,
    `    ip daddr 127.0.0.0/8 return`,
    `    ip daddr ${podIp} return`,
    `    meta l4proto tcp redirect to :${ports.outbound}`,
    `  }`,
    `  chain prerouting {`,
    `    type nat hook prerouting priority -110; policy accept;`,
    `    tcp dport ${ports.hbone} redirect to :${ports.hbone}`,
    `    tcp dport { ${ports.metrics}, ${ports.readiness} } return`,
    `    meta l4proto tcp redirect to :${ports.inboundPlaintext}`,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}
