// IstioMesh: upstream Istio in ambient mode instead of ours, for a side-by-side comparison on one
// cluster and one load (issue 16). Istio's four charts, pinned, installed one after another in the order
// its Helm documentation gives; what and how come from mesh/manifests/istio.ts (pure, tested against the
// charts' own values). The mesh CA (cert-manager into istio-system/cacerts) must exist first: istiod
// reads it as its plug-in CA.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ISTIO_CHART_REPO, istioCharts } from "../../mesh/manifests/index.ts";
import { DEFAULT_TRUST_DOMAIN } from "../../mesh/shared/index.ts";

export interface IstioMeshArgs {
  /** Default "istio-system" (it must exist: MeshCa creates it). */
  namespace?: string;
  trustDomain?: string;
  /** Pinned Istio version; default ISTIO_VERSION. */
  version?: string;
  /** Resources Istio must wait for (the Gateway API CRDs, the mesh CA). */
  dependsOn?: pulumi.Resource[];
}

export class IstioMesh extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly controlPlaneAddress: pulumi.Output<string>;
  /** The charts in install order, as created (tests read their names). */
  public readonly charts: k8s.helm.v4.Chart[] = [];

  constructor(name: string, args: IstioMeshArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:mesh:IstioMesh", name, {}, opts);
    const namespace = args.namespace ?? "istio-system";
    if (args.version !== undefined && !/^\d+\.\d+\.\d+$/.test(args.version)) {
      throw new pulumi.ResourceError(`version "${args.version}" must be a pinned Istio release (X.Y.Z)`, this);
    }
    const byRelease = new Map<string, k8s.helm.v4.Chart>();
    for (const c of istioCharts({ namespace, trustDomain: args.trustDomain ?? DEFAULT_TRUST_DOMAIN, ...(args.version ? { version: args.version } : {}) })) {
      const after = c.after.map((r) => byRelease.get(r)!);
      const chart = new k8s.helm.v4.Chart(
        `${name}-${c.release}`,
        { chart: c.chart, version: c.version, namespace: c.namespace, name: c.release, repositoryOpts: { repo: ISTIO_CHART_REPO }, values: c.values },
        { parent: this, dependsOn: [...(args.dependsOn ?? []), ...after] },
      );
      byRelease.set(c.release, chart);
      this.charts.push(chart);
    }
    this.namespace = pulumi.output(namespace);
    this.controlPlaneAddress = pulumi.output(`https://istiod.${namespace}.svc:15012`);
    this.registerOutputs({ namespace: this.namespace, controlPlaneAddress: this.controlPlaneAddress });
  }
}
