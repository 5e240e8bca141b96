// `npm run render`'s options, checked: the tree must point at images and a Git repository that exist, so
// neither is ever invented. Pure (the git remote is passed in), so the rules are tested without a repo.
import { posix } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";

export const RENDER_USAGE = `Usage: npm run render -- --registry REGISTRY [--repo URL] [--revision main] [--tag 0.1.0] [--out deploy] [--trust-domain cluster.local]
       npm run render -- --mesh istio [--repo URL] [--revision main] [--out deploy] [--trust-domain cluster.local]
  --registry   where the mesh images are pushed (for example ghcr.io/you/ambient-lab): the tree deploys
               REGISTRY/control-plane, REGISTRY/ztunnel and REGISTRY/waypoint at --tag. Build and push them
               first (README: GitOps). Not used with --mesh istio.
  --mesh       ambient-lab (default: ours) or istio (upstream Istio's charts, pinned, instead)
  --repo       the Git URL ArgoCD and Flux pull this tree from; default: this clone's 'origin' remote
  --revision   branch ArgoCD and Flux follow (default main)
  --tag        the images' tag, pinned (default 0.1.0; not latest)
  --out        output directory inside this checkout, relative to its root (default deploy; it is replaced)
`;

export interface RenderArgs {
  mesh: "ambient-lab" | "istio";
  /** Empty with --mesh istio. */
  registry: string;
  repo: string;
  revision: string;
  tag: string;
  out: string;
  trustDomain: string;
}

export class RenderArgsError extends Error {}

/** Returns the options, "help", or throws RenderArgsError with what to fix. */
export function parseRenderArgs(argv: string[], gitRemote: string | undefined): RenderArgs | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        registry: { type: "string" },
        mesh: { type: "string", default: "ambient-lab" },
        repo: { type: "string" },
        revision: { type: "string", default: "main" },
        tag: { type: "string", default: "0.1.0" },
        out: { type: "string", default: "deploy" },
        "trust-domain": { type: "string", default: DEFAULT_TRUST_DOMAIN },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new RenderArgsError((err as Error).message);
  }
  if (values.help) return "help";
  const problems: string[] = [];
  const mesh = String(values.mesh);
  if (mesh !== "ambient-lab" && mesh !== "istio") problems.push(`--mesh "${mesh}" must be ambient-lab (ours) or istio`);
  const registry = String(values.registry ?? "").replace(/\/+$/, "");
  if (mesh === "istio") {
    if (registry) problems.push("--registry is for our mesh's images; with --mesh istio nothing of ours is deployed: drop it");
  } else if (!registry)
    problems.push("--registry is required: the images must come from a registry you pushed them to (e.g. --registry ghcr.io/you/ambient-lab)");
  else if (!/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/.test(registry))
    problems.push(`--registry "${registry}" is not a registry path (lowercase host[:port]/path)`);
  const repo = String(values.repo ?? gitRemote ?? "");
  if (!repo) problems.push("--repo is required: this clone has no 'origin' remote to take it from, and ArgoCD and Flux need the URL they pull from");
  else if (!/^(https:\/\/|ssh:\/\/|git@)/.test(repo)) problems.push(`--repo "${repo}" must be an https://, ssh:// or git@ URL`);
  const tag = String(values.tag);
  if (tag === "latest" || !/^[\w][\w.-]{0,127}$/.test(tag)) problems.push(`--tag "${tag}" must be a pinned image tag, not latest`);
  // ArgoCD and Flux find the tree at this path inside --repo, so it must be one: relative, inside the checkout.
  const out = posix.normalize(String(values.out)).replace(/\/+$/, "");
  if (posix.isAbsolute(out) || out === "." || out === ".." || out.startsWith("../")) {
    problems.push(
      `--out "${String(values.out)}" must be a directory inside this checkout, relative to its root (e.g. deploy): ArgoCD and Flux read the tree at that path in --repo`,
    );
  }
  if (problems.length) throw new RenderArgsError(problems.join("\n"));
  return { mesh: mesh as RenderArgs["mesh"], registry, repo, revision: String(values.revision), tag, out, trustDomain: String(values["trust-domain"]) };
}
