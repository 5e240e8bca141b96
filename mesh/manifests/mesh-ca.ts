// Pure: the mesh's root CA issued by cert-manager into the Secret the control plane reads ("cacerts" in
// the mesh namespace): a self-signed ClusterIssuer bootstraps an ECDSA P-256 CA certificate. The control
// plane accepts cert-manager's Secret layout (tls.crt, tls.key, ca.crt) as well as Istio's cacerts layout.
import type { KubeObject } from "./mesh.ts";

export function meshCaObjects(o: { namespace: string; trustDomain: string }): KubeObject[] {
  return [
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "ambient-lab-selfsigned" },
      spec: { selfSigned: {} },
    },
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "ambient-lab-mesh-ca", namespace: o.namespace },
      spec: {
        isCA: true,
        commonName: "ambient-lab mesh CA",
        subject: { organizations: [o.trustDomain] },
        secretName: "cacerts",
        duration: "87600h",
        renewBefore: "720h",
        // The control plane signs workload certificates with ECDSA P-256 only.
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
        issuerRef: { name: "ambient-lab-selfsigned", kind: "ClusterIssuer", group: "cert-manager.io" },
      },
    },
  ];
}
