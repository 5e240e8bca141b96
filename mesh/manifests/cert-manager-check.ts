// Pure: cert-manager's own API check (the chart's startupapicheck, a Helm post-install hook that a Pulumi
// helm.v4.Chart drops) as plain objects: a Job that succeeds once the API accepts a Certificate, i.e. the
// webhook answers and its CA bundle has been injected. Until then the first Certificate fails with
// "failed calling webhook ... x509: certificate signed by unknown authority"; Pulumi waits for the Job
// (it awaits Jobs' completion) before creating any cert-manager resource.
import type { KubeObject } from "./mesh.ts";

export const CERT_MANAGER_CHECK = "ambient-lab-cert-manager-check";

/** The check image is released with cert-manager itself, under the same version tag. */
export function certManagerCheckImage(version: string): string {
  return `quay.io/jetstack/cert-manager-startupapicheck:${version}`;
}

export function certManagerCheckObjects(namespace: string, version: string): KubeObject[] {
  const labels = { "app.kubernetes.io/name": CERT_MANAGER_CHECK, "app.kubernetes.io/part-of": "ambient-lab" };
  const meta = { name: CERT_MANAGER_CHECK, namespace, labels };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta },
    // The check creates a Certificate with dry-run: create on certificates in its own namespace is all it needs.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta,
      rules: [{ apiGroups: ["cert-manager.io"], resources: ["certificates"], verbs: ["create"] }],
    } as KubeObject,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: CERT_MANAGER_CHECK },
      subjects: [{ kind: "ServiceAccount", name: CERT_MANAGER_CHECK, namespace }],
    } as KubeObject,
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta,
      spec: {
        // As the chart's hook: a few retries, each waiting up to two minutes for the API.
        backoffLimit: 4,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: CERT_MANAGER_CHECK,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "check",
                image: certManagerCheckImage(version),
                args: ["check", "api", "--wait=2m"],
                env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      },
    },
  ];
}
