// Samples: httpbin and sleep in ambient-demo (enrolled), waypoint-demo (with its waypoint), sidecar-demo
// (our proxy injected as a sidecar) and baseline.
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SAMPLE_NAMESPACES, SAMPLE_IMAGES, sampleObjects, type SampleNamespace } from "../../mesh/manifests/index.ts";
import type { SidecarInjector, SidecarOptions } from "../../mesh/manifests/index.ts";
import { createObjects } from "../kube-objects.ts";

export interface SamplesArgs {
  /** Default: ambient-demo (ambient), sidecar-demo (sidecar), baseline (none). */
  namespaces?: SampleNamespace[];
  /** Pinned images; default SAMPLE_IMAGES. */
  images?: typeof SAMPLE_IMAGES;
  /** The mesh (or anything else) the samples must wait for. */
  dependsOn?: pulumi.Resource[];
  /** How sidecar-mode namespaces get their proxy (the ztunnel image in sidecar mode). Without it they run plain. */
  sidecar?: SidecarOptions<pulumi.Input<string>>;
  /** "istio": sidecar-mode namespaces are labelled for Istio's injection webhook instead. Default "ambient-lab". */
  injector?: SidecarInjector;
}

export class Samples extends pulumi.ComponentResource {
  public readonly namespaces: pulumi.Output<string[]>;

  constructor(name: string, args: SamplesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:samples:Samples", name, {}, opts);
    const namespaces = args.namespaces ?? DEFAULT_SAMPLE_NAMESPACES;
    if (namespaces.length === 0) throw new pulumi.ResourceError("namespaces must not be empty", this);
    const injector = args.injector ?? "ambient-lab";
    if (injector === "ambient-lab" && !args.sidecar && namespaces.some((n) => n.mode === "sidecar"))
      pulumi.log.warn("sidecar-mode sample namespaces get no proxy: pass sidecar options", this);
    createObjects(name, sampleObjects(namespaces, args.images ?? SAMPLE_IMAGES, args.sidecar, { injector }), this, args.dependsOn ?? []);
    this.namespaces = pulumi.output(namespaces.map((n) => n.name));
    this.registerOutputs({ namespaces: this.namespaces });
  }
}
