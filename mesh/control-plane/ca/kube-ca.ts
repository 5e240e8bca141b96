// Kubernetes mode: the CA's key material lives in Secrets. A plugged-in CA ("cacerts", the layout
// cert-manager can issue into) wins; otherwise the self-signed root in "istio-ca-secret", created on
// first start. The trust bundle is published as ConfigMap "istio-ca-root-cert" in enrolled namespaces.
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import { createRootCa, type CaMaterial } from "../../shared/index.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, "base64").toString("utf8") : "");

function splitCerts(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? []).map((c) => (c.endsWith("\n") ? c : c + "\n"));
}

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; body?: unknown };
  return e.code ?? e.statusCode;
}

export async function loadOrCreateKubeCa(opts: { kubeConfig: KubeConfig; namespace: string; trustDomain: string; log: Logger }): Promise<CaMaterial> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const read = async (name: string) => {
    try {
      return await core.readNamespacedSecret({ name, namespace: opts.namespace });
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return undefined;
      const hint = code === 403 ? ": the control plane's service account needs get/create on secrets in its namespace" : "";
      throw new MeshError(ErrorCode.Ca, `cannot read Secret ${opts.namespace}/${name}${hint}`, { cause: err });
    }
  };
  const plugged = await read("cacerts");
  if (plugged?.data && plugged.data["tls.crt"] && plugged.data["tls.key"]) {
    // cert-manager's layout: tls.crt is the CA (and its chain), ca.crt the root that issued it.
    const d = plugged.data;
    const certs = splitCerts(unb64(d["tls.crt"]));
    if (certs.length === 0) throw new MeshError(ErrorCode.Ca, `Secret ${opts.namespace}/cacerts: tls.crt holds no certificate`);
    const rootPem = unb64(d["ca.crt"]) || certs.at(-1)!;
    opts.log.info({ secret: `${opts.namespace}/cacerts`, layout: "cert-manager" }, "using the plugged-in CA");
    return { certPem: certs[0]!, keyPem: unb64(d["tls.key"]), rootPem, chainPem: certs.slice(1).filter((c) => c !== rootPem) };
  }
  if (plugged?.data) {
    const d = plugged.data;
    const material = { certPem: unb64(d["ca-cert.pem"]), keyPem: unb64(d["ca-key.pem"]), rootPem: unb64(d["root-cert.pem"]), chainPem: [] as string[] };
    if (!material.certPem || !material.keyPem || !material.rootPem) {
      throw new MeshError(ErrorCode.Ca, `Secret ${opts.namespace}/cacerts needs ca-cert.pem, ca-key.pem and root-cert.pem`);
    }
    material.chainPem = splitCerts(unb64(d["cert-chain.pem"])).filter((c) => c !== material.certPem && c !== material.rootPem);
    opts.log.info({ secret: `${opts.namespace}/cacerts` }, "using the plugged-in CA");
    return material;
  }
  const own = await read("istio-ca-secret");
  if (own?.data?.["ca-cert.pem"] && own.data["ca-key.pem"]) {
    const cert = unb64(own.data["ca-cert.pem"]);
    return { certPem: cert, keyPem: unb64(own.data["ca-key.pem"]), rootPem: cert, chainPem: [] };
  }
  const ca = await createRootCa({ trustDomain: opts.trustDomain });
  try {
    await core.createNamespacedSecret({
      namespace: opts.namespace,
      body: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "istio-ca-secret", namespace: opts.namespace },
        type: "istio.io/ca-root",
        data: { "ca-cert.pem": b64(ca.certPem), "ca-key.pem": b64(ca.keyPem) },
      },
    });
    opts.log.info({ secret: `${opts.namespace}/istio-ca-secret` }, "created a self-signed root CA");
    return ca;
  } catch (err) {
    // Another replica created it first: use theirs, so the mesh has one root.
    if (statusCode(err) === 409) return loadOrCreateKubeCa(opts);
    throw new MeshError(ErrorCode.Ca, `cannot create Secret ${opts.namespace}/istio-ca-secret`, { cause: err });
  }
}

/** Writes the root certificate into ConfigMap istio-ca-root-cert of each namespace given. */
export async function publishRootCert(opts: { kubeConfig: KubeConfig; namespaces: string[]; rootPem: string; log: Logger }): Promise<void> {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  for (const namespace of opts.namespaces) {
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio-ca-root-cert", namespace }, data: { "root-cert.pem": opts.rootPem } };
    try {
      await core.replaceNamespacedConfigMap({ name: "istio-ca-root-cert", namespace, body });
    } catch (err) {
      if (statusCode(err) !== 404) {
        opts.log.warn({ namespace, err: String(err) }, "publishing the trust bundle failed");
        continue;
      }
      await core
        .createNamespacedConfigMap({ namespace, body })
        .catch((e: unknown) => opts.log.warn({ namespace, err: String(e) }, "publishing the trust bundle failed"));
    }
  }
}
