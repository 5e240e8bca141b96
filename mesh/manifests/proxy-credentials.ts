// Pure: how every proxy pod (the ztunnel DaemonSet, waypoint Deployments, injected sidecars) reaches
// the control plane: its address and identity, a projected service-account token with the istio-ca
// audience, and the trust bundle from ConfigMap istio-ca-root-cert. One definition for all three.

export interface ControlPlaneEndpoint {
  /** e.g. https://istiod.istio-system.svc:15012 */
  xdsAddress: string;
  trustDomain: string;
  /** The SPIFFE identity the control plane must present. */
  controlPlaneIdentity: string;
}

/** The control plane installed in `namespace` (Service and service account "istiod"). */
export function controlPlaneEndpoint(namespace: string, trustDomain: string): ControlPlaneEndpoint {
  return { xdsAddress: `https://istiod.${namespace}.svc:15012`, trustDomain, controlPlaneIdentity: `spiffe://${trustDomain}/ns/${namespace}/sa/istiod` };
}

const TOKEN_DIR = "/var/run/secrets/tokens";
const ROOT_DIR = "/var/run/ambient-lab/root";

export function controlPlaneEnv(e: ControlPlaneEndpoint): Array<{ name: string; value: string }> {
  return [
    { name: "XDS_ADDRESS", value: e.xdsAddress },
    { name: "ROOT_CERT", value: `${ROOT_DIR}/root-cert.pem` },
    { name: "TOKEN_FILE", value: `${TOKEN_DIR}/istio-token` },
    { name: "CONTROL_PLANE_IDENTITY", value: e.controlPlaneIdentity },
    { name: "TRUST_DOMAIN", value: e.trustDomain },
  ];
}

/** `prefix` keeps injected volume names apart from the application's own. */
export function credentialMounts(prefix = ""): Array<Record<string, unknown>> {
  return [
    { name: `${prefix}istio-token`, mountPath: TOKEN_DIR, readOnly: true },
    { name: `${prefix}root-cert`, mountPath: ROOT_DIR, readOnly: true },
  ];
}

export function credentialVolumes(prefix = ""): Array<Record<string, unknown>> {
  return [
    {
      name: `${prefix}istio-token`,
      projected: { sources: [{ serviceAccountToken: { audience: "istio-ca", expirationSeconds: 43200, path: "istio-token" } }] },
    },
    { name: `${prefix}root-cert`, configMap: { name: "istio-ca-root-cert" } },
  ];
}
