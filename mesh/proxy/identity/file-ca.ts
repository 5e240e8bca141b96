// A CaClient that signs locally with key material from a cacerts directory: for offline runs and
// tests without a control plane. Every ztunnel pointed at the same directory shares one root.
import { loadOrCreateCaDir } from "../../shared/index.ts";
import { signWorkloadCert, type CaMaterial } from "../../shared/index.ts";
import type { CaClient, CertificateRequest } from "./ca-client.ts";

export class FileCaClient implements CaClient {
  private readonly ca: CaMaterial;

  private constructor(ca: CaMaterial) {
    this.ca = ca;
  }

  static async open(dir: string, trustDomain: string): Promise<FileCaClient> {
    return new FileCaClient(await loadOrCreateCaDir(dir, trustDomain));
  }

  static fromMaterial(ca: CaMaterial): FileCaClient {
    return new FileCaClient(ca);
  }

  async sign(req: CertificateRequest): Promise<string[]> {
    const issued = await signWorkloadCert({ ca: this.ca, csrPem: req.csrPem, identity: req.identity, ttlSeconds: req.ttlSeconds });
    return issued.chainPem;
  }

  async trustBundle(): Promise<string[]> {
    return [this.ca.rootPem];
  }
}
