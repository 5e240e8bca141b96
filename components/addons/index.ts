// Cluster add-ons from pinned Helm charts (helm.v4.Chart: plain objects Pulumi manages, and renderable
// for GitOps): cert-manager, and kube-prometheus-stack with Prometheus and Grafana scraping the mesh.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { certManagerCheckObjects } from "../../mesh/manifests/index.ts";
import { meshCaObjects } from "../../mesh/manifests/index.ts";
import { meshNamespaceObject, PSS_ENFORCE } from "../../mesh/manifests/index.ts";
import {
  kubePrometheusStackValues,
  meshMonitoringObjects,
  METRICS_SERVER_REPO,
  metricsServerValues,
  MONITORING_NAMESPACE,
  PROMETHEUS_SERVICE,
} from "../../mesh/manifests/index.ts";
import { createObjects } from "../kube-objects.ts";
import { LABELS } from "../../mesh/api/index.ts";

export interface CertManagerArgs {
  /** Pinned chart version, e.g. "v1.18.2". */
  version: string;
}

export class CertManager extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  /** Completes once cert-manager's API accepts Certificates (webhook up, CA bundle injected): wait for this. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:CertManager", name, {}, opts);
    if (!/^v\d+\.\d+\.\d+$/.test(args.version)) throw new pulumi.ResourceError(`version "${args.version}" must be pinned (vX.Y.Z)`, this);
    // The chart's pods (and our check Job) meet the restricted Pod Security Standard.
    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: "cert-manager", labels: { [LABELS.dataplaneMode]: "none", [PSS_ENFORCE]: "restricted" } } },
      { parent: this },
    );
    const chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "cert-manager",
        version: args.version,
        namespace: ns.metadata.name,
        repositoryOpts: { repo: "https://charts.jetstack.io" },
        // The chart's startupapicheck is a Helm hook, which helm.v4.Chart drops: ours runs below.
        values: { crds: { enabled: true }, prometheus: { enabled: true }, startupapicheck: { enabled: false } },
      },
      { parent: this },
    );
    const check = createObjects(name, certManagerCheckObjects("cert-manager", args.version), this, [ns, chart]);
    this.ready = check.get("Job/cert-manager/ambient-lab-cert-manager-check")!;
    this.namespace = ns.metadata.name;
    this.registerOutputs({ namespace: this.namespace });
  }
}

export interface MetricsServerArgs {
  /** Pinned chart version, e.g. "3.12.2". */
  version: string;
  /** kind: its kubelets serve self-signed certificates, which metrics-server must then accept. Default false. */
  insecureKubeletTls?: boolean;
}

/** metrics-server, for `kubectl top` and the Horizontal Pod Autoscaler (the seed demo uses `kubectl top`). */
export class MetricsServer extends pulumi.ComponentResource {
  constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:MetricsServer", name, {}, opts);
    if (!/^\d+\.\d+\.\d+$/.test(args.version)) throw new pulumi.ResourceError(`version "${args.version}" must be a pinned chart version (X.Y.Z)`, this);
    new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "metrics-server",
        version: args.version,
        namespace: "kube-system",
        repositoryOpts: { repo: METRICS_SERVER_REPO },
        values: metricsServerValues(args.insecureKubeletTls ?? false),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

export interface MonitoringArgs {
  /** Pinned kube-prometheus-stack chart version, e.g. "75.15.1". */
  version: string;
  /** Namespace of the mesh, whose control plane and ztunnels are scraped. */
  meshNamespace: string;
  /** Whose proxies are scraped: ours, or upstream Istio's (their ports and paths differ). Default "ambient-lab". */
  mesh?: "ambient-lab" | "istio";
}

/** kube-prometheus-stack (trimmed for small nodes), PodMonitors for the mesh and the mesh's Grafana dashboard. */
export class Monitoring extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  /** The Prometheus Service (port 9090), for queries through the API server's service proxy. */
  public readonly prometheusService: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:Monitoring", name, {}, opts);
    if (!/^\d+\.\d+\.\d+$/.test(args.version)) throw new pulumi.ResourceError(`version "${args.version}" must be a pinned chart version (X.Y.Z)`, this);
    // baseline, not restricted: not every container of the stack's charts sets a seccomp profile and drops
    // all capabilities; nothing needs host access (node-exporter is off), which baseline forbids.
    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: MONITORING_NAMESPACE, labels: { [LABELS.dataplaneMode]: "none", [PSS_ENFORCE]: "baseline" } } },
      { parent: this },
    );
    const chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "kube-prometheus-stack",
        version: args.version,
        namespace: ns.metadata.name,
        repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
        values: kubePrometheusStackValues(),
      },
      { parent: this },
    );
    // The PodMonitor CRD comes with the chart, so the monitors wait for it.
    createObjects(name, meshMonitoringObjects({ meshNamespace: args.meshNamespace, mesh: args.mesh ?? "ambient-lab" }), this, [chart]);
    this.namespace = ns.metadata.name;
    this.prometheusService = pulumi.output(PROMETHEUS_SERVICE);
    this.registerOutputs({ namespace: this.namespace, prometheusService: this.prometheusService });
  }
}

export interface MeshCaArgs {
  /** The mesh namespace, created here so the CA Secret can be issued into it before the control plane starts. */
  namespace: string;
  trustDomain: string;
  /** What proves cert-manager's API works (CertManager.ready): its CRDs, webhook and injected CA bundle. */
  certManager: pulumi.Resource;
}

/** The mesh's root CA issued by cert-manager into Secret "cacerts", which the control plane reads at start. */
export class MeshCa extends pulumi.ComponentResource {
  constructor(name: string, args: MeshCaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:MeshCa", name, {}, opts);
    createObjects(name, [meshNamespaceObject(args.namespace), ...meshCaObjects({ namespace: args.namespace, trustDomain: args.trustDomain })], this, [
      args.certManager,
    ]);
    this.registerOutputs({});
  }
}
