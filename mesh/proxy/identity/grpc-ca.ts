// A CaClient backed by the control plane's CertificateService.
import { readFile } from "node:fs/promises";
import { createClient, type Transport } from "@connectrpc/connect";
import { CertificateService } from "../../api/index.ts";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import type { CaClient, CertificateRequest } from "./ca-client.ts";

export class GrpcCaClient implements CaClient {
  private readonly client;
  private readonly rootCertFile: string;

  constructor(transport: Transport, rootCertFile: string) {
    this.client = createClient(CertificateService, transport);
    this.rootCertFile = rootCertFile;
  }

  async sign(req: CertificateRequest): Promise<string[]> {
    const resp = await this.client.createCertificate({ csr: req.csrPem, validityDuration: BigInt(req.ttlSeconds) }, { timeoutMs: 10_000 });
    if (resp.certChain.length === 0) throw new MeshError(ErrorCode.Ca, "the control plane returned an empty certificate chain");
    return resp.certChain;
  }

  async trustBundle(): Promise<string[]> {
    const text = await readFile(this.rootCertFile, "utf8");
    return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((p) => (p.endsWith("\n") ? p : p + "\n")) ?? [];
  }
}
