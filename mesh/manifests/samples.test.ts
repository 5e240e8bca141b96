import { describe, expect, it } from "vitest";
import { sampleObjects } from "./samples.ts";
import { validateObject } from "./validate.ts";

describe("samples", () => {
  const objects = sampleObjects();
  it("validate against the Kubernetes schemas", () => {
    for (const o of objects) validateObject(o);
  });
  it("enrol ambient-demo and waypoint-demo (bound to its own waypoint), with httpbin on 8000 -> 8080 and pinned images in every namespace", () => {
    const nss = objects.filter((o) => o.kind === "Namespace");
    expect(
      nss.map((n) => [n.metadata.name, n.metadata.labels?.["istio.io/dataplane-mode"] ?? null, n.metadata.labels?.["istio.io/use-waypoint"] ?? null]),
    ).toEqual([
      ["ambient-demo", "ambient", null],
      ["waypoint-demo", "ambient", "waypoint"],
      ["sidecar-demo", null, null],
      ["baseline", null, null],
    ]);
    const gateways = objects.filter((o) => o.kind === "Gateway");
    expect(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`)).toEqual(["waypoint-demo/waypoint"]);
    expect(gateways[0]!.spec).toMatchObject({ gatewayClassName: "istio-waypoint" });
    for (const svc of objects.filter((o) => o.kind === "Service")) expect(svc.spec).toMatchObject({ ports: [{ port: 8000, targetPort: 8080 }] });
    const images = JSON.stringify(objects).match(/"image":"[^"]+"/g) ?? [];
    expect(images.length).toBe(8);
    for (const i of images) expect(i).not.toMatch(/:latest"|"image":"[^:]+"$/);
  });
});
