// The mesh images on this machine, which has no container runtime: each image's ENTRYPOINT and USER are
// read from mesh/Dockerfile (the file the real images are built from), and its program runs from the
// sources, or from the esbuild bundle the image would contain (benchmarks: what ships).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, MeshError } from "../shared/index.ts";

export interface ImageConfig {
  /** ENTRYPOINT, exec form. */
  entrypoint: string[];
  /** USER's uid, when the image sets one. */
  user?: number;
  /** ENV, which a container's own env overrides. */
  env?: Record<string, string>;
}

/** Pure: the final stages of a Dockerfile, by target name, with their ENTRYPOINT, USER and ENV. */
export function parseImageConfigs(dockerfile: string): Map<string, ImageConfig> {
  const out = new Map<string, ImageConfig>();
  let current: { target: string; config: Partial<ImageConfig> } | undefined;
  const finish = () => {
    if (current?.config.entrypoint) out.set(current.target, current.config as ImageConfig);
  };
  for (const [i, raw] of dockerfile.split("\n").entries()) {
    const line = raw.trim();
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) {
      finish();
      current = { target: from[1] ?? "", config: {} };
      continue;
    }
    if (!current) continue;
    const user = /^USER\s+(\d+)(?::\d+)?$/i.exec(line);
    if (user) current.config.user = Number(user[1]);
    else if (/^USER\s/i.test(line)) throw new MeshError(ErrorCode.Config, `Dockerfile line ${i + 1}: USER must be numeric (uid[:gid]), got "${line}"`);
    const envLine = /^ENV\s+(.*)$/i.exec(line);
    if (envLine) {
      for (const pair of envLine[1]!.trim().split(/\s+/)) {
        const kv = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(pair);
        if (!kv) throw new MeshError(ErrorCode.Config, `Dockerfile line ${i + 1}: ENV must be KEY=value pairs without quotes or spaces, got "${line}"`);
        current.config.env = { ...current.config.env, [kv[1]!]: kv[2]! };
      }
    }
    const entry = /^ENTRYPOINT\s+(.*)$/i.exec(line);
    if (entry) {
      let argv: unknown;
      try {
        argv = JSON.parse(entry[1]!);
      } catch {
        argv = undefined;
      }
      if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
        throw new MeshError(ErrorCode.Config, `Dockerfile line ${i + 1}: ENTRYPOINT must be the exec form ["program", "arg", ...]`);
      }
      current.config.entrypoint = argv;
    }
  }
  finish();
  return out;
}

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NODE_BIN = process.execPath;
/** How the single-machine cluster names the images it renders into pod specs. */
export const LOCAL_IMAGES = { controlPlane: "ambient-lab/control-plane:local", ztunnel: "ambient-lab/ztunnel:local", waypoint: "ambient-lab/waypoint:local" };

/** Where images' programs come from: TypeScript sources (default) or `npm run build`'s bundles in dist/. */
export interface ImageRuntime {
  bundles?: boolean;
}

/**
 * The argv that runs `image` here: its ENTRYPOINT with `node` as this Node and /app/<program>.mjs as the
 * program's sources (mesh/<program>/main.ts) or bundle (dist/<program>.mjs).
 */
export function localEntrypoint(
  image: string,
  configs: Map<string, ImageConfig>,
  runtime: ImageRuntime = {},
): { argv: string[]; user?: number; env?: Record<string, string> } {
  const m = /^ambient-lab\/([a-z-]+):local$/.exec(image);
  const config = m ? configs.get(m[1]!) : undefined;
  if (!config) {
    throw new MeshError(
      ErrorCode.Config,
      `image ${image} is not one this machine can run; local images: ${[...configs.keys()].map((t) => `ambient-lab/${t}:local`).join(", ")}`,
    );
  }
  const argv = config.entrypoint.map((arg, i) => {
    if (i === 0 && arg === "node") return NODE_BIN;
    const program = /^\/app\/([a-z-]+)\.mjs$/.exec(arg);
    if (!program) return arg;
    const file = runtime.bundles ? join(ROOT, "dist", `${program[1]}.mjs`) : join(ROOT, "mesh", program[1]!, "main.ts");
    if (!existsSync(file)) {
      throw new MeshError(
        ErrorCode.Config,
        runtime.bundles ? `${file} is missing: run \`npm run build\` first` : `${file} is missing: is this a checkout of ambient-lab?`,
      );
    }
    return file;
  });
  return { argv, ...(config.user !== undefined ? { user: config.user } : {}), ...(config.env ? { env: config.env } : {}) };
}

let cached: Map<string, ImageConfig> | undefined;
/** mesh/Dockerfile's images, read once. */
export function meshImages(): Map<string, ImageConfig> {
  cached ??= parseImageConfigs(readFileSync(join(ROOT, "mesh/Dockerfile"), "utf8"));
  return cached;
}
