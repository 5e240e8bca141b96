// Samples: httpbin and sleep in ambient-demo (enrolled), sidecar-demo and baseline.
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SAMPLE_NAMESPACES, SAMPLE_IMAGES, sampleObjects, type SampleNamespace } from "../../mesh/manifests/samples.ts";
import { createObjects } from "../kube-objects.ts";

export interface SamplesArgs {
  /** Default: ambient-demo (ambient), sidecar-demo (sidecar), baseline (none). */
  namespaces?: SampleNamespace[];
  /** Pinned images; default SAMPLE_IMAGES. */
  images?: typeof SAMPLE_IMAGES;
  /** The mesh (or anything else) the samples must wait for. */
  dependsOn?: pulumi.Resource[];
}

export class Samples extends pulumi.ComponentResource {
  public readonly namespaces: pulumi.Output<string[]>;

  constructor(name: string, args: SamplesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:samples:Samples", name, {}, opts);
    const namespaces = args.namespaces ?? DEFAULT_SAMPLE_NAMESPACES;
    if (namespaces.length === 0) throw new pulumi.ResourceError("namespaces must not be empty", this);
    createObjects(name, sampleObjects(namespaces, args.images ?? SAMPLE_IMAGES), this, args.dependsOn ?? []);
    this.namespaces = pulumi.output(namespaces.map((n) => n.name));
    this.registerOutputs({ namespaces: this.namespaces });
  }
}
