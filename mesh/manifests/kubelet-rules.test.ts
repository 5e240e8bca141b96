import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { waypointObjects } from "../control-plane/index.ts";
import { testGitOpsOptions } from "../testing/index.ts";
import { renderGitOpsTree } from "./gitops.ts";
import { missingRequests, nameProblems, nonRootProblems, podSecurityProblems } from "./kubelet-rules.ts";
import type { KubeObject } from "./mesh.ts";

const deploy = (image: string, sc: Record<string, unknown>, podSc: Record<string, unknown> = {}): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "x", namespace: "n" },
    spec: { template: { spec: { securityContext: podSc, containers: [{ name: "c", image, securityContext: sc }] } } },
  }) as KubeObject;

describe("the kubelet's non-root rule", () => {
  it.each([
    ["go-httpbin v2.18.3 runs as root: refused", deploy("docker.io/mccutchen/go-httpbin:v2.18.3", { runAsNonRoot: true }), /image will run as root/],
    ["a named image user cannot be verified: refused", deploy("docker.io/curlimages/curl:8.15.0", { runAsNonRoot: true }), /non-numeric user \(curl_user\)/],
    ["runAsUser 0 with runAsNonRoot: refused", deploy("docker.io/curlimages/curl:8.15.0", { runAsNonRoot: true, runAsUser: 0 }), /runAsUser 0/],
    ["an image we do not know: named", deploy("example.com/unknown:1", { runAsNonRoot: true }), /not in IMAGE_USERS/],
  ])("%s", (_name, obj, want) => {
    expect(nonRootProblems([obj]).join("\n")).toMatch(want);
  });

  it.each([
    ["an explicit non-root uid", deploy("docker.io/mccutchen/go-httpbin:v2.18.3", { runAsNonRoot: true, runAsUser: 65532 })],
    ["the pod-level uid", deploy("docker.io/curlimages/curl:8.15.0", { runAsNonRoot: true }, { runAsUser: 100 })],
    ["a numeric image user", deploy("ambient-lab/control-plane:0.1.0", { runAsNonRoot: true })],
    ["no runAsNonRoot at all", deploy("docker.io/mccutchen/go-httpbin:v2.18.3", {})],
  ])("passes: %s", (_name, obj) => {
    expect(nonRootProblems([obj])).toEqual([]);
  });

  it("names containers without cpu and memory requests", () => {
    expect(missingRequests([deploy("docker.io/curlimages/curl:8.15.0", {})])).toEqual(["Deployment n/x container c: resources.requests needs cpu and memory"]);
  });

  it("knows Pod Security admission's restricted profile", () => {
    const ns = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}) =>
      ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels, annotations } }) as KubeObject;
    const ok = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
    expect(podSecurityProblems([ns("n", { "pod-security.kubernetes.io/enforce": "restricted" }), deploy("x", ok)])).toEqual([]);
    expect(
      podSecurityProblems([
        ns("n", { "pod-security.kubernetes.io/enforce": "restricted" }),
        deploy("x", { ...ok, capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] }, seccompProfile: undefined }),
      ]),
    ).toEqual(["Deployment n/x container c: capability NET_ADMIN", "Deployment n/x container c: seccompProfile must be RuntimeDefault or Localhost"]);
    expect(podSecurityProblems([ns("a", {}), ns("b", { "pod-security.kubernetes.io/enforce": "privileged" })])).toEqual([
      "Namespace a: no pod-security.kubernetes.io/enforce label",
      "Namespace b: privileged without ambient-lab.io/pod-security-reason",
    ]);
  });

  it("knows the API server's name rules", () => {
    const obj = (kind: string, name: string, namespace?: string) =>
      ({ apiVersion: "v1", kind, metadata: { name, ...(namespace ? { namespace } : {}) } }) as KubeObject;
    expect(
      nameProblems([obj("Namespace", "Ambient"), obj("Service", "8080-svc", "demo"), obj("ConfigMap", "a_b", "demo"), obj("Deployment", "ok.name", "Bad_NS")]),
    ).toEqual([
      "Namespace Ambient: must be a DNS-1123 label (lowercase, digits, -, at most 63)",
      "Service 8080-svc: a Service name must start with a letter (DNS-1035)",
      "ConfigMap a_b: must be a DNS-1123 subdomain",
      'Deployment ok.name: namespace "Bad_NS" is not a DNS-1123 label',
    ]);
  });

  it("every pod the rendered install creates would start (issue 10, problem 1: httpbin)", () => {
    const tree = renderGitOpsTree(testGitOpsOptions(["baseline", "sidecar", "ambient", "waypoint"]));
    const objects = [...tree.entries()]
      .filter(([p]) => p.endsWith(".yaml") && !p.startsWith("flux/") && !p.startsWith("argocd/"))
      .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as KubeObject))
      // kustomization.yaml files are kustomize's input, not API objects.
      .filter((o) => !o.apiVersion.startsWith("kustomize.config.k8s.io/"));
    // The control plane deploys each waypoint (not in the tree): the one for waypoint-demo's Gateway too.
    const gateway = objects.find((o) => o.kind === "Gateway" && o.metadata.namespace === "waypoint-demo")!;
    objects.push(
      ...waypointObjects({ ...gateway, metadata: { ...gateway.metadata, uid: "u-1" } } as never, {
        image: "ambient-lab/waypoint:0.1.0",
        pullPolicy: "IfNotPresent",
        xdsAddress: "https://istiod.istio-system.svc:15012",
        trustDomain: "cluster.local",
        controlPlaneIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
        logLevel: "info",
      }),
    );
    expect(objects.filter((o) => o.kind === "Deployment").length).toBeGreaterThan(3);
    expect(nonRootProblems(objects)).toEqual([]);
    expect(missingRequests(objects)).toEqual([]);
    expect(nameProblems(objects)).toEqual([]);
    expect(podSecurityProblems(objects)).toEqual([]);
  });
});
