import { expect, it } from "vitest";
import { componentKey, componentName, parseProcessName, PROC, processName, type ProcessKey } from "./process-key.ts";

it("names every kind of process one way and reads it back; refuses names no cluster writes", () => {
  const keys: ProcessKey[] = [
    PROC.controlPlane,
    PROC.prometheus,
    PROC.ztunnel("node-1"),
    PROC.waypoint("demo/waypoint"),
    PROC.sidecar("legacy/client"),
    PROC.app("demo/httpbin"),
  ];
  expect(keys.map(processName)).toEqual([
    "control-plane",
    "prometheus",
    "ztunnel/node-1",
    "waypoint/demo/waypoint",
    "sidecar/legacy/client",
    "app/demo/httpbin",
  ]);
  for (const k of keys) expect(parseProcessName(processName(k))).toEqual(k);
  for (const bad of ["", "ztunnel", "ztunnel/a/b", "waypoint/demo", "kubelet/x", "app/a/b/c"]) expect(parseProcessName(bad), bad).toBeUndefined();
});

it("reads what users type for logs, and shows applications without the app/ prefix", () => {
  expect(componentKey("demo/httpbin")).toEqual(PROC.app("demo/httpbin"));
  expect(componentKey("ztunnel/node-2")).toEqual(PROC.ztunnel("node-2"));
  expect(componentKey("nonsense")).toBeUndefined();
  expect(componentName("app/demo/httpbin")).toBe("demo/httpbin");
  expect(componentName("ztunnel/node-1")).toBe("ztunnel/node-1");
});
