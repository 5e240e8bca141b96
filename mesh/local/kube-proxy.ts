// What kube-proxy does for Services, for pods outside the mesh: DNAT from a service VIP:port to an
// endpoint pod, in every node's namespace. Pure render (golden-tested), applied with `nft -f`.
// It hooks at priority -100 (dstnat), after ztunnel's capture at -110, so enrolled pods' traffic is
// captured by ztunnel first and never reaches these rules.
import type { PlannedService } from "./config-render.ts";
import type { PlannedPod } from "./plan.ts";
import { compareStrings } from "../shared/index.ts";

export const KUBE_PROXY_TABLE = "al_kube_proxy";

export function renderKubeProxy(services: PlannedService[], pods: PlannedPod[]): string {
  const rules: string[] = [];
  const chains: string[] = [];
  for (const s of services) {
    const endpoints = s.selector
      .map((name) => pods.find((p) => p.namespace === s.namespace && p.name === name))
      .filter((p): p is PlannedPod => p !== undefined)
      .sort((a, b) => compareStrings(a.ip, b.ip));
    for (const port of s.ports) {
      const target = port.targetPort || port.port;
      const match = `ip daddr ${s.vip} tcp dport ${port.port}`;
      if (endpoints.length === 0) {
        // Like kube-proxy: a service without endpoints rejects instead of timing out.
        rules.push(`    ${match} reject with tcp reset`);
      } else if (endpoints.length === 1) {
        rules.push(`    ${match} dnat to ${endpoints[0]!.ip}:${target}`);
      } else {
        const base = `svc-${s.namespace}-${s.name}-${port.port}`;
        rules.push(`    ${match} numgen random mod ${endpoints.length} vmap { ${endpoints.map((_, i) => `${i} : jump ${base}-${i}`).join(", ")} }`);
        endpoints.forEach((e, i) => chains.push(`  chain ${base}-${i} {`, `    meta l4proto tcp dnat to ${e.ip}:${target}`, `  }`));
      }
    }
  }
  return [
    `table ip ${KUBE_PROXY_TABLE} {}`,
    `delete table ip ${KUBE_PROXY_TABLE}`,
    `table ip ${KUBE_PROXY_TABLE} {`,
    ...chains,
    `  chain prerouting {`,
    `    type nat hook prerouting priority -100; policy accept;`,
    ...rules,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}
