// Pure: the docker buildx commands that build (and push) the mesh images for GitOps users, one per
// Dockerfile target, multi-arch when pushing. `npm run images` runs them.
import { IMAGE_TARGETS } from "./index.ts";

export interface ImagesArgs {
  registry: string;
  tag: string;
  push: boolean;
  platforms: string[];
}

export function buildCommands(a: ImagesArgs): string[][] {
  return IMAGE_TARGETS.map((t) => [
    "docker",
    "buildx",
    "build",
    "-f",
    "mesh/Dockerfile",
    "--target",
    t,
    "--platform",
    a.platforms.join(","),
    "-t",
    `${a.registry}/${t}:${a.tag}`,
    a.push ? "--push" : "--load",
    ".",
  ]);
}
