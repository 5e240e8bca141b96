// What a node's ztunnel has counted, for tests that must prove traffic went through it: connections it
// accepted as mutual TLS between two identities (reporter "destination").
import type { LocalCluster } from "../local/index.ts";
import { formatIdentity, parseSamples, sumWhere } from "../shared/index.ts";

type Who = { namespace: string; serviceAccount: string };

export async function mtlsConnections(cluster: LocalCluster, node: string, from: Who, to: Who, trustDomain = "cluster.local"): Promise<number> {
  const text = (await cluster.execInNode(node, "curl", ["-s", "http://127.0.0.1:15020/metrics"])).stdout;
  return sumWhere(parseSamples(text), "istio_tcp_connections_opened_total", {
    reporter: "destination",
    source_principal: formatIdentity({ trustDomain, ...from }),
    destination_principal: formatIdentity({ trustDomain, ...to }),
    connection_security_policy: "mutual_tls",
  });
}
