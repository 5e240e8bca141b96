// The GitOps render options the manifest tests share (golden tree, cluster-rule checks).
import type { GitOpsOptions } from "../manifests/index.ts";

export function testGitOpsOptions(modes: GitOpsOptions["benchmark"]["modes"] = ["baseline", "ambient"]): GitOpsOptions {
  return {
    repoURL: "https://example.com/ambient-lab.git",
    revision: "main",
    path: "deploy",
    versions: { gatewayApi: "v1.3.0", certManager: "v1.18.2", kubePrometheusStack: "75.15.1", metricsServer: "3.12.2" },
    mesh: {
      namespace: "istio-system",
      trustDomain: "cluster.local",
      logLevel: "info",
      images: { controlPlane: "ambient-lab/control-plane:0.1.0", ztunnel: "ambient-lab/ztunnel:0.1.0", waypoint: "ambient-lab/waypoint:0.1.0" },
      pullPolicy: "IfNotPresent",
    },
    benchmark: {
      modes,
      settings: { rate: 100, duration: "30s", connections: 10, payloadBytes: 1024, k6Version: "1.2.3" },
      script: "export default function () {}\n",
    },
  };
}
