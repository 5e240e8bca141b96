import { describe, expect, it } from "vitest";
import { benchmarkJob } from "./benchmark.ts";
import { sampleObjects } from "./samples.ts";
import { injectSidecar, PROXY_LABEL, type SidecarOptions } from "./sidecar.ts";
import { validateObject } from "./validate.ts";

const opts: SidecarOptions = {
  image: "ambient-lab/ztunnel:0.1.0",
  pullPolicy: "IfNotPresent",
  xdsAddress: "https://istiod.istio-system.svc:15012",
  trustDomain: "cluster.local",
  controlPlaneIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
};
type Tpl = {
  metadata: { labels: Record<string, string> };
  spec: {
    initContainers: Array<{
      name: string;
      restartPolicy: string;
      env: Array<{ name: string; value?: string }>;
      securityContext: { capabilities: { add: string[] } };
    }>;
    volumes: Array<{ name: string }>;
  };
};

describe("sidecar injection (render time, like istioctl kube-inject)", () => {
  const objects = sampleObjects(undefined, undefined, opts);

  it("adds a native sidecar to sidecar-demo's Deployments only; every object stays schema-valid", () => {
    for (const o of objects) validateObject(o);
    const injected = objects.filter((o) => o.kind === "Deployment" && (o.spec as { template: Tpl }).template.metadata.labels[PROXY_LABEL] === "sidecar");
    expect(injected.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["sidecar-demo/httpbin", "sidecar-demo/sleep"]);
    const t = (injected[0]!.spec as { template: Tpl }).template;
    const proxy = t.spec.initContainers[0]!;
    expect(proxy).toMatchObject({ name: "ambient-lab-proxy", restartPolicy: "Always" });
    expect(proxy.env.find((e) => e.name === "REDIRECT")?.value).toBe("sidecar");
    expect(proxy.securityContext.capabilities.add).toEqual(expect.arrayContaining(["NET_ADMIN", "SETUID", "SETGID"]));
    expect(t.spec.volumes.map((v) => v.name)).toEqual(expect.arrayContaining(["ambient-lab-istio-token", "ambient-lab-root-cert"]));
  });

  it("is idempotent and leaves other kinds alone", () => {
    const dep = objects.find((o) => o.kind === "Deployment" && o.metadata.namespace === "sidecar-demo")!;
    expect(injectSidecar(dep, opts)).toEqual(dep);
    const svc = objects.find((o) => o.kind === "Service")!;
    expect(injectSidecar(svc, opts)).toBe(svc);
  });

  it("the sidecar mode's k6 Job runs with the proxy (a native sidecar lets it complete); other modes' do not", () => {
    const s = { rate: 100, duration: "30s", connections: 4, payloadBytes: 1024, k6Version: "1.2.3" };
    const job = benchmarkJob("sidecar", s, opts);
    validateObject(job);
    expect(JSON.stringify(job)).toContain("ambient-lab-proxy");
    expect(JSON.stringify(benchmarkJob("ambient", s, opts))).not.toContain("ambient-lab-proxy");
  });
});
