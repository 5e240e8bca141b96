// Pure: the kind cluster configuration. One control-plane node (labelled ingress-ready, as the original
// demo's tag-nodes step did), workers spread over two zones, and a dedicated, tainted node for the
// load generator so benchmarks do not share CPUs with the workloads they measure.
import { stringify } from "yaml";

export interface KindConfigOptions {
  workers: number;
  nodeImage: string;
}

export const LOADGEN_NODE_LABEL = "ambient-lab.io/role";
export const LOADGEN_TAINT = { key: "ambient-lab.io/loadgen", value: "true", effect: "NoSchedule" } as const;

export function renderKindConfig(o: KindConfigOptions): string {
  const kubelet = (labels: Record<string, string>, taint?: string) => ({
    kind: "JoinConfiguration",
    nodeRegistration: {
      kubeletExtraArgs: {
        "node-labels": Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
        ...(taint ? { "register-with-taints": taint } : {}),
      },
    },
  });
  const nodes = [
    {
      role: "control-plane",
      image: o.nodeImage,
      kubeadmConfigPatches: [
        stringify({
          kind: "InitConfiguration",
          nodeRegistration: { kubeletExtraArgs: { "node-labels": "ingress-ready=true,topology.kubernetes.io/zone=zone-a" } },
        }),
      ],
    },
    ...Array.from({ length: o.workers }, (_, i) => ({
      role: "worker",
      image: o.nodeImage,
      kubeadmConfigPatches: [stringify(kubelet({ "topology.kubernetes.io/zone": i % 2 === 0 ? "zone-a" : "zone-b", [LOADGEN_NODE_LABEL]: "workload" }))],
    })),
    {
      role: "worker",
      image: o.nodeImage,
      kubeadmConfigPatches: [
        stringify(
          kubelet(
            { "topology.kubernetes.io/zone": "zone-a", [LOADGEN_NODE_LABEL]: "loadgen" },
            `${LOADGEN_TAINT.key}=${LOADGEN_TAINT.value}:${LOADGEN_TAINT.effect}`,
          ),
        ),
      ],
    },
  ];
  return stringify({ kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4", nodes }, { lineWidth: 0 });
}
