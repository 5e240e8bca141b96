// Gateway API CRDs (standard channel) at a pinned release, before the mesh (its istio-waypoint
// GatewayClass needs them) and the waypoint issue's Gateways and HTTPRoutes.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export function gatewayApiCrdsUrl(version: string): string {
  return `https://github.com/kubernetes-sigs/gateway-api/releases/download/${version}/standard-install.yaml`;
}

export interface GatewayApiCrdsArgs {
  /** Pinned release, e.g. "v1.3.0". */
  version: string;
}

export class GatewayApiCrds extends pulumi.ComponentResource {
  public readonly version: pulumi.Output<string>;

  constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:addons:GatewayApiCrds", name, {}, opts);
    if (!/^v\d+\.\d+\.\d+$/.test(args.version)) throw new pulumi.ResourceError(`version "${args.version}" must be a pinned release (vX.Y.Z)`, this);
    new k8s.yaml.v2.ConfigFile(`${name}-crds`, { file: gatewayApiCrdsUrl(args.version) }, { parent: this });
    this.version = pulumi.output(args.version);
    this.registerOutputs({ version: this.version });
  }
}
