// MeshImages: the mesh's images built from mesh/Dockerfile (one target per program, Node 24 bundles)
// with @pulumi/docker-build, not during previews. On kind they are loaded into the nodes and deployed by
// tag with a pull policy that never pulls; with a registry (EKS: ECR) they are pushed and deployed by digest.
import { fileURLToPath } from "node:url";
import * as command from "@pulumi/command";
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export const IMAGE_TARGETS = ["control-plane", "ztunnel", "waypoint"] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

export interface MeshImagesArgs {
  /** Pinned tag (not "latest"). */
  tag: string;
  /**
   * kind: a hash of the build inputs (contentHash), appended to the tag so that changed code gets a new
   * tag and rolls out (images there are never pulled). Ignored with a registry (deployed by digest).
   */
  contentHash?: string;
  /** kind: the platform to build for, this machine's (hostPlatform). Registry builds are multi-arch. */
  hostPlatform?: string;
  /** kind: load into this cluster's nodes. */
  kindCluster?: pulumi.Input<string>;
  /** A registry to push to (for example an ECR repository URL); images are then referenced by digest. */
  registry?: {
    repositoryPrefix: pulumi.Input<string>;
    auth?: { address: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string> };
  };
}

export class MeshImages extends pulumi.ComponentResource {
  /** Image references to deploy, by program. */
  public readonly refs: Record<ImageTarget, pulumi.Output<string>>;

  constructor(name: string, args: MeshImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:images:MeshImages", name, {}, opts);
    if (!/^[\w][\w.-]{0,127}$/.test(args.tag) || args.tag === "latest")
      throw new pulumi.ResourceError(`tag "${args.tag}" must be a pinned image tag, not latest`, this);
    if (!args.kindCluster === !args.registry) throw new pulumi.ResourceError("give exactly one of kindCluster (load into kind) or registry (push)", this);
    const refs = {} as Record<ImageTarget, pulumi.Output<string>>;
    const tag = args.kindCluster && args.contentHash ? `${args.tag}-${args.contentHash}` : args.tag;
    // A registry serves every architecture a cluster may have (EKS on Graviton, kind on an arm64 laptop);
    // an image loaded into kind is built for the machine that runs it (the engine's image store is single-arch).
    const platforms = args.registry ? ["linux/amd64", "linux/arm64"] : [args.hostPlatform ?? "linux/amd64"];
    for (const target of IMAGE_TARGETS) {
      const repo = args.registry ? pulumi.interpolate`${args.registry.repositoryPrefix}/${target}` : pulumi.output(`ambient-lab/${target}`);
      const image = new dockerbuild.Image(
        `${name}-${target}`,
        {
          context: { location: ROOT },
          dockerfile: { location: `${ROOT}/mesh/Dockerfile` },
          target,
          tags: [pulumi.interpolate`${repo}:${tag}`],
          platforms: platforms as dockerbuild.Platform[],
          buildOnPreview: false,
          push: args.registry !== undefined,
          // kind loads from the local Docker engine.
          load: args.kindCluster !== undefined,
          ...(args.registry?.auth ? { registries: [args.registry.auth] } : {}),
        },
        { parent: this },
      );
      if (args.kindCluster) {
        const loaded = new command.local.Command(
          `${name}-${target}-load`,
          { create: pulumi.interpolate`kind load docker-image ${repo}:${tag} --name ${args.kindCluster}`, triggers: [image.digest] },
          { parent: this, dependsOn: [image] },
        );
        refs[target] = pulumi.all([repo, loaded.id]).apply(([r]) => `${r}:${tag}`);
      } else {
        refs[target] = pulumi.interpolate`${repo}@${image.digest}`;
      }
    }
    this.refs = refs;
    this.registerOutputs({ refs });
  }
}
