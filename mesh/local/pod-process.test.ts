import { describe, expect, it } from "vitest";
import { podProcess, type PodProcessContext, type PodTemplateLike } from "./pod-process.ts";

const ctx: PodProcessContext = {
  pod: { namespace: "demo", name: "web-1", nodeName: "node-2", podIP: "198.18.2.10" },
  image: (ref) =>
    ref === "img/proxy" ? { argv: ["/bin/node", "--flag", "/src/main.ts"], user: 1337, env: { FROM_IMAGE: "1", LOG_LEVEL: "image" } } : { argv: ["/bin/app"] },
  volumeDir: (v) => `/secrets/demo-web-1/${v}`,
  configMapKeys: (name) => (name === "istio-ca-root-cert" ? ["root-cert.pem"] : undefined),
};

const template = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): PodTemplateLike => ({
  spec: {
    serviceAccountName: "web",
    containers: [
      { name: "app", image: "img/app" },
      { name: "proxy", image: "img/proxy", ...container },
    ],
    volumes: [
      { name: "token", projected: { sources: [{ serviceAccountToken: { audience: "istio-ca", expirationSeconds: 600, path: "istio-token" } }] } },
      { name: "root", configMap: { name: "istio-ca-root-cert" } },
    ],
    ...spec,
  },
});

describe("podProcess", () => {
  it("runs the image's entrypoint with the container's env, the downward API and its mounts' files", () => {
    const p = podProcess(
      template({
        args: ["--root", "/var/root/root-cert.pem"],
        env: [
          { name: "TOKEN_FILE", value: "/var/tokens/istio-token" },
          { name: "ROOT_CERT", value: "/var/root/root-cert.pem" },
          { name: "PLAIN", value: "/var/rootless" },
          { name: "EMPTY" },
          { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
          // The container's env overrides the image's ENV.
          { name: "LOG_LEVEL", value: "debug" },
        ],
        volumeMounts: [
          { name: "token", mountPath: "/var/tokens", readOnly: true },
          { name: "root", mountPath: "/var/root/" },
        ],
        readinessProbe: { httpGet: { path: "/healthz/ready", port: 15021 } },
      }),
      "proxy",
      ctx,
    );
    expect(p).toEqual({
      argv: ["/bin/node", "--flag", "/src/main.ts", "--root", "/secrets/demo-web-1/root/root-cert.pem"],
      env: {
        FROM_IMAGE: "1",
        LOG_LEVEL: "debug",
        TOKEN_FILE: "/secrets/demo-web-1/token/istio-token",
        ROOT_CERT: "/secrets/demo-web-1/root/root-cert.pem",
        // A prefix of a mount path's text, not a path under it: left alone.
        PLAIN: "/var/rootless",
        EMPTY: "",
        NODE_NAME: "node-2",
        POD_IP: "198.18.2.10",
        NS: "demo",
        NAME: "web-1",
        SA: "web",
      },
      user: 1337,
      files: [
        { path: "/secrets/demo-web-1/token/istio-token", kind: "serviceAccountToken", serviceAccount: "web", audience: "istio-ca", expirationSeconds: 600 },
        { path: "/secrets/demo-web-1/root/root-cert.pem", kind: "configMap", configMap: "istio-ca-root-cert", key: "root-cert.pem" },
      ],
      readiness: { path: "/healthz/ready", port: 15021 },
    });
  });

  it("takes the user from the container, else the pod, else the image, else root; command replaces the entrypoint", () => {
    expect(podProcess(template({ securityContext: { runAsUser: 0 } }, { securityContext: { runAsUser: 5 } }), "proxy", ctx).user).toBe(0);
    expect(podProcess(template({}, { securityContext: { runAsUser: 5 } }), "proxy", ctx).user).toBe(5);
    expect(podProcess(template({}), "proxy", ctx).user).toBe(1337);
    expect(podProcess(template({}), "app", ctx).user).toBe(0);
    expect(podProcess(template({ command: ["/bin/sh", "-c"], args: ["true"] }), "proxy", ctx).argv).toEqual(["/bin/sh", "-c", "true"]);
    const init = { ...template({}), spec: { ...template({}).spec, initContainers: [{ name: "sidecar", image: "img/proxy", restartPolicy: "Always" }] } };
    expect(podProcess(init, "sidecar", ctx).argv[0]).toBe("/bin/node");
  });

  it("refuses what this machine cannot run, naming the pod, the container and the field", () => {
    const bad =
      (c: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
      () =>
        podProcess(template(c, spec), "proxy", ctx);
    expect(() => podProcess(template({}), "nope", ctx)).toThrow("demo/web-1 container nope: no such container; the pod has app, proxy");
    expect(bad({ env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } }] })).toThrow(/env X: fieldRef metadata.uid is not one of/);
    expect(bad({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] })).toThrow(/env X: only value and fieldRef/);
    expect(bad({ volumeMounts: [{ name: "missing", mountPath: "/x" }] })).toThrow(/volumeMount missing names no volume/);
    expect(bad({ volumeMounts: [{ name: "token", mountPath: "/x", subPath: "a" }] })).toThrow(/subPath is not supported/);
    expect(bad({ volumeMounts: [{ name: "cm", mountPath: "/x" }] }, { volumes: [{ name: "cm", configMap: { name: "other" } }] })).toThrow(
      /ConfigMap other does not exist in namespace demo/,
    );
    expect(bad({ volumeMounts: [{ name: "e", mountPath: "/x" }] }, { volumes: [{ name: "e", emptyDir: {} }] })).toThrow(/volume e: only projected/);
    expect(bad({ readinessProbe: { httpGet: { port: "http-ready" } } })).toThrow(/readinessProbe: only a numeric port/);
  });
});
