import { expect, it } from "vitest";
import { meshCaObjects } from "./mesh-ca.ts";
import { validateObject } from "./validate.ts";

it("cert-manager issues an ECDSA P-256 mesh CA into cacerts in the mesh namespace (schema-valid)", () => {
  const objects = meshCaObjects({ namespace: "istio-system", trustDomain: "cluster.local" });
  for (const o of objects) validateObject(o);
  const cert = objects.find((o) => o.kind === "Certificate")!;
  expect(cert.metadata.namespace).toBe("istio-system");
  expect(cert.spec).toMatchObject({ isCA: true, secretName: "cacerts", privateKey: { algorithm: "ECDSA", size: 256 } });
});
