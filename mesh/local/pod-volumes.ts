// The single-machine kubelet's volume work: it writes the files a pod's volumes project (its
// service-account token, the trust bundle) into per-pod, per-volume directories that only the reading
// user may open, and keeps them current as the control plane rotates the originals.
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { podSecretsDir } from "./cluster-view.ts";
import { ROOT } from "./images.ts";
import type { ResolvedPod } from "./mesh-pods.ts";

/**
 * Writes every file `pod` projects. A token's original appears once the control plane has read the pod
 * (sidecar label) or Gateway (waypoint); `why` explains a missing one.
 */
export async function projectVolumes(prefix: string, pod: ResolvedPod, why: () => Promise<string>): Promise<void> {
  if (pod.files.length === 0) return;
  for (const f of pod.files) {
    for (let i = 0; i < 100 && !(await exists(f.source)); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(await exists(f.source))) {
      throw new MeshError(ErrorCode.Exec, `nothing to project into ${f.path} for ${pod.spawn.name}: ${f.source} does not exist; ${await why()}`);
    }
  }
  const root = podSecretsDir(prefix);
  await mkdir(root, { recursive: true, mode: 0o711 });
  await chmod(root, 0o711);
  for (const dir of new Set(pod.files.map((f) => dirname(f.path)))) {
    // <root>/<pod>/<volume>: both owned by the reader, listable by nobody else.
    for (const d of [dirname(dir), dir]) {
      await mkdir(d, { recursive: true });
      await chown(d, pod.fileOwner, pod.fileOwner);
      await chmod(d, 0o500);
    }
  }
  for (const f of pod.files) await writeOwned(f.path, await readFile(f.source), pod.fileOwner, f.mode);
}

/** Re-copies every projected file whose original changed (a rotated token); returns how many. */
export async function refreshVolumes(pods: ResolvedPod[]): Promise<number> {
  let changed = 0;
  for (const pod of pods) {
    for (const f of pod.files) {
      const [src, dst] = await Promise.all([readFile(f.source).catch(() => undefined), readFile(f.path).catch(() => undefined)]);
      // Only copies that exist (projectVolumes made them when the pod started) are kept up to date.
      if (!src || !dst || src.equals(dst)) continue;
      await writeOwned(f.path, src, pod.fileOwner, f.mode);
      changed++;
    }
  }
  return changed;
}

/** Writes a file for one user atomically (beside the target, then renamed), with its mode and owner set first. */
export async function writeOwned(path: string, data: Buffer | string, uid: number, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, data, { mode });
  await chown(tmp, uid, uid);
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** Gives a directory tree to `uid`, and lets that user reach it through our own ancestors. */
export async function chownTree(dir: string, uid: number): Promise<void> {
  const walk = async (path: string): Promise<void> => {
    await chown(path, uid, uid);
    const st = await stat(path);
    if (!st.isDirectory()) return;
    for (const entry of await readdir(path)) await walk(join(path, entry));
  };
  await walk(dir);
  await allowTraverse(dir);
}

/**
 * Lets every user traverse (not list) the ancestors of `dir` that are ours: under the temp directory,
 * the checkout, or `alsoUnder` (a cluster's state directory), as a pod's user must reach its files.
 */
export async function allowTraverse(dir: string, alsoUnder?: string): Promise<void> {
  const ours = (p: string) =>
    p.startsWith(`${tmpdir()}/`) || p.startsWith(ROOT) || (alsoUnder !== undefined && (p === alsoUnder || p.startsWith(`${alsoUnder}/`)));
  for (let parent = dirname(dir); ours(parent); parent = dirname(parent)) {
    const st = await stat(parent);
    if ((st.mode & 0o001) === 0) await chmod(parent, (st.mode & 0o7777) | 0o001);
    if (parent === dirname(parent)) break;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
