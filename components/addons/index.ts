// Cluster add-ons from pinned Helm charts (helm.v4.Chart: plain objects Pulumi manages, and renderable
// for GitOps): cert-manager, and kube-prometheus-stack with Prometheus and Grafana scraping the mesh.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { meshCaObjects } from "../../mesh/manifests/mesh-ca.ts";
import { meshNamespaceObject } from "../../mesh/manifests/mesh.ts";
import { createObjects } from "../kube-objects.ts";

export interface CertManagerArgs {
  /** Pinned chart version, e.g. "v1.18.2". */
  version: string;
}

export class CertManager extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:CertManager", name, {}, opts);
    if (!/^v\d+\.\d+\.\d+$/.test(args.version)) throw new pulumi.ResourceError(`version "${args.version}" must be pinned (vX.Y.Z)`, this);
    const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: "cert-manager", labels: { "istio.io/dataplane-mode": "none" } } }, { parent: this });
    new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "cert-manager",
        version: args.version,
        namespace: ns.metadata.name,
        repositoryOpts: { repo: "https://charts.jetstack.io" },
        values: { crds: { enabled: true }, prometheus: { enabled: true } },
      },
      { parent: this },
    );
    this.namespace = ns.metadata.name;
    this.registerOutputs({ namespace: this.namespace });
  }
}

export interface MonitoringArgs {
  /** Pinned kube-prometheus-stack chart version, e.g. "75.15.1". */
  version: string;
  /** Namespace of the mesh, whose control plane and ztunnels are scraped. */
  meshNamespace: pulumi.Input<string>;
}

/** Pure: scrape jobs for the mesh (ztunnel metrics on 15020 via the node IPs; control plane admin on 15014). */
export function meshScrapeConfigs(meshNamespace: string): unknown[] {
  return [
    {
      job_name: "ambient-lab-ztunnel",
      kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [meshNamespace] } }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_pod_label_app"], regex: "ztunnel", action: "keep" },
        { source_labels: ["__meta_kubernetes_pod_ip"], target_label: "__address__", replacement: "$1:15020" },
        { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
      ],
    },
    {
      job_name: "ambient-lab-control-plane",
      kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [meshNamespace] } }],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_pod_label_app"], regex: "istiod", action: "keep" },
        { source_labels: ["__meta_kubernetes_pod_ip"], target_label: "__address__", replacement: "$1:15014" },
      ],
    },
  ];
}

export class Monitoring extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  /** The Prometheus Service (port 9090), for queries through the API server's service proxy. */
  public readonly prometheusService: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:Monitoring", name, {}, opts);
    if (!/^\d+\.\d+\.\d+$/.test(args.version)) throw new pulumi.ResourceError(`version "${args.version}" must be a pinned chart version (X.Y.Z)`, this);
    const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: "monitoring", labels: { "istio.io/dataplane-mode": "none" } } }, { parent: this });
    new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "kube-prometheus-stack",
        version: args.version,
        namespace: ns.metadata.name,
        repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
        values: pulumi.output(args.meshNamespace).apply((meshNs) => ({
          // Short, fixed object names: the benchmark queries Prometheus at service "kps-prometheus".
          fullnameOverride: "kps",
          // Small clusters (kind, three t3.medium): no alertmanager, modest retention.
          alertmanager: { enabled: false },
          // Grafana generates its admin password into a Secret: no credential in code or stack state.
          grafana: { enabled: true },
          prometheus: { prometheusSpec: { retention: "2d", additionalScrapeConfigs: meshScrapeConfigs(meshNs) } },
        })),
      },
      { parent: this },
    );
    this.namespace = ns.metadata.name;
    this.prometheusService = pulumi.output("kps-prometheus");
    this.registerOutputs({ namespace: this.namespace, prometheusService: this.prometheusService });
  }
}

export interface MeshCaArgs {
  /** The mesh namespace, created here so the CA Secret can be issued into it before the control plane starts. */
  namespace: string;
  trustDomain: string;
  /** cert-manager must be running (its CRDs and webhook). */
  certManager: pulumi.Resource;
}

/** The mesh's root CA issued by cert-manager into Secret "cacerts", which the control plane reads at start. */
export class MeshCa extends pulumi.ComponentResource {
  constructor(name: string, args: MeshCaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:MeshCa", name, {}, opts);
    createObjects(name, [meshNamespaceObject(args.namespace), ...meshCaObjects({ namespace: args.namespace, trustDomain: args.trustDomain })], this, [args.certManager]);
    this.registerOutputs({});
  }
}
