// The HBONE request headers ztunnel adds besides :authority: `forwarded` (RFC 7239) with the original
// client address and `baggage` (W3C) with the source workload's metadata.
import { formatAddr, tryParseAddr, type SockAddr } from "../../shared/index.ts";
import type { Service, Workload } from "../state/types.ts";

export function buildForwarded(src: SockAddr, service?: Service): string {
  return `for="${formatAddr(src)}"${service ? `;host=${service.hostname}` : ""}`;
}

/** The first `for=` of a Forwarded header, when it is an ip:port. */
export function parseForwardedFor(value: string | string[] | undefined): SockAddr | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const m = /(?:^|[;,]\s*)for=("?)([^";,]+)\1/i.exec(v);
  return m ? tryParseAddr(m[2]!) : undefined;
}

export function buildBaggage(w: Workload, clusterId: string): string {
  const pairs: Array<[string, string]> = [
    ["k8s.cluster.name", clusterId],
    ["k8s.namespace.name", w.namespace],
    ["k8s.pod.name", w.name],
    ["service.name", w.canonicalName],
    ["service.version", w.canonicalRevision],
  ];
  return pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(",");
}
