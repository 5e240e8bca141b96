// The store's projection of API objects: what translation reads survives, status-only churn does not.
import { describe, expect, it } from "vitest";
import type { AnyObject } from "../model/kube.ts";
import { project } from "./projection.ts";

const meta = {
  name: "a",
  namespace: "demo",
  labels: { app: "a" },
  annotations: { x: "y" },
  uid: "u1",
  generation: 3,
  creationTimestamp: "2026-01-01T00:00:00Z",
};
const noise = { resourceVersion: "991", managedFields: [{ manager: "kubelet", operation: "Update" }] };

describe("project", () => {
  it("keeps a pod's spec and what translation reads of its status, and drops the rest", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...meta, ...noise, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "a-1", uid: "r", controller: true }] },
      spec: { nodeName: "n1", hostNetwork: false, containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: 80 }] }] },
      status: {
        phase: "Running",
        podIP: "198.18.0.5",
        podIPs: [{ ip: "198.18.0.5" }],
        conditions: [
          { type: "Initialized", status: "True", lastTransitionTime: "t1" },
          { type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: "t2" },
        ],
        containerStatuses: [{ name: "c", restartCount: 4, ready: true }],
        startTime: "t0",
      },
    } as unknown as AnyObject;
    expect(project("Pod", pod)).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...meta, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "a-1", uid: "r", controller: true }] },
      spec: { nodeName: "n1", hostNetwork: false, containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: 80 }] }] },
      status: { phase: "Running", podIP: "198.18.0.5", podIPs: [{ ip: "198.18.0.5" }], conditions: [{ type: "Ready", status: "True" }] },
    });
  });

  it("makes a pod's probe and restart churn, and any status write on other kinds, an equal object", () => {
    const pod = (restarts: number, probe: string) =>
      ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { ...meta, resourceVersion: probe },
        spec: {},
        status: { podIP: "198.18.0.5", conditions: [{ type: "Ready", status: "True", lastProbeTime: probe }], containerStatuses: [{ restartCount: restarts }] },
      }) as unknown as AnyObject;
    expect(project("Pod", pod(1, "t1"))).toEqual(project("Pod", pod(2, "t2")));
    const ap = (conditions: unknown[]) =>
      ({
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { ...meta, ...noise },
        spec: { action: "DENY" },
        status: { conditions },
      }) as unknown as AnyObject;
    expect(project("AuthorizationPolicy", ap([]))).toEqual(project("AuthorizationPolicy", ap([{ type: "ZtunnelAccepted", status: "True" }])));
    expect(project("AuthorizationPolicy", ap([]))).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: meta,
      spec: { action: "DENY" },
    });
  });

  it("still sees what translation reads change: readiness, IPs, labels, spec", () => {
    const pod = (ready: string, ip: string, labels: Record<string, string>) =>
      project("Pod", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { ...meta, labels },
        spec: {},
        status: { podIP: ip, conditions: [{ type: "Ready", status: ready }] },
      } as unknown as AnyObject);
    const base = pod("True", "198.18.0.5", {});
    expect(pod("False", "198.18.0.5", {})).not.toEqual(base);
    expect(pod("True", "198.18.0.6", {})).not.toEqual(base);
    expect(pod("True", "198.18.0.5", { v: "2" })).not.toEqual(base);
  });
});
