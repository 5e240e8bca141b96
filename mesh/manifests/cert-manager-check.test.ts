import { expect, it } from "vitest";
import { certManagerCheckObjects } from "./cert-manager-check.ts";
import { missingRequests, nonRootProblems, podSecurityProblems } from "./kubelet-rules.ts";

it("cert-manager's API check: the release's own check image and args, least privilege, and a pod restricted admission accepts", () => {
  const objects = certManagerCheckObjects("cert-manager", "v1.18.2");
  const job = objects.find((o) => o.kind === "Job") as unknown as { spec: { template: { spec: { containers: Array<{ image: string; args: string[] }> } } } };
  expect(job.spec.template.spec.containers[0]).toMatchObject({
    image: "quay.io/jetstack/cert-manager-startupapicheck:v1.18.2",
    args: ["check", "api", "--wait=2m"],
  });
  expect(objects.find((o) => o.kind === "Role")).toMatchObject({ rules: [{ apiGroups: ["cert-manager.io"], resources: ["certificates"], verbs: ["create"] }] });
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "cert-manager", labels: { "pod-security.kubernetes.io/enforce": "restricted" } } };
  expect(podSecurityProblems([ns, ...objects])).toEqual([]);
  expect(nonRootProblems(objects)).toEqual([]);
  expect(missingRequests(objects)).toEqual([]);
});
