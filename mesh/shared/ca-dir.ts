// CA key material in a directory in Istio's cacerts layout (ca-cert.pem, ca-key.pem, root-cert.pem,
// cert-chain.pem), as cert-manager or an operator provides it. A missing directory gets a new
// self-signed root on first use; concurrent first starts agree on one root.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, MeshError } from "./errors.ts";
import { createRootCa, type CaMaterial } from "./pki.ts";

const FILES = { cert: "ca-cert.pem", key: "ca-key.pem", root: "root-cert.pem", chain: "cert-chain.pem" } as const;

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((p) => (p.endsWith("\n") ? p : p + "\n")) ?? [];
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

export async function loadOrCreateCaDir(dir: string, trustDomain: string): Promise<CaMaterial> {
  try {
    const [certPem, keyPem, rootPem, chainText] = await Promise.all([
      readFile(join(dir, FILES.cert), "utf8"),
      readFile(join(dir, FILES.key), "utf8"),
      readFile(join(dir, FILES.root), "utf8"),
      readFile(join(dir, FILES.chain), "utf8").catch(() => ""),
    ]);
    // cert-chain.pem holds the signing cert and what is above it; keep only what sits between it and the root.
    const chainPem = splitPem(chainText).filter((c) => c !== certPem && c !== rootPem);
    return { certPem, keyPem, rootPem, chainPem };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new MeshError(ErrorCode.Ca, `cannot read the CA files in ${dir}: check their permissions`, { cause: err });
    }
  }
  // Creating the directory is the lock: of two processes starting together, one writes the root and
  // the other waits for it, so they never end up with two different roots.
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return waitForCaDir(dir, trustDomain);
  }
  const ca = await createRootCa({ trustDomain });
  // Key first and root last: a reader that finds root-cert.pem finds everything.
  await writeAtomic(join(dir, FILES.key), ca.keyPem, 0o600);
  await writeAtomic(join(dir, FILES.cert), ca.certPem, 0o644);
  await writeAtomic(join(dir, FILES.chain), ca.certPem, 0o644);
  await writeAtomic(join(dir, FILES.root), ca.rootPem, 0o644);
  return ca;
}

async function waitForCaDir(dir: string, trustDomain: string): Promise<CaMaterial> {
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    try {
      await readFile(join(dir, FILES.root));
      return loadOrCreateCaDir(dir, trustDomain);
    } catch {
      // not written yet
    }
  }
  throw new MeshError(ErrorCode.Ca, `${dir} exists but holds no ${FILES.root}: remove the directory or put the cacerts files in it`);
}
