// The waypoint reports ready only with config and a certificate, and becomes ready once a CA that was
// unreachable at start answers (the certificate manager retries; readiness follows it).
import { afterEach, expect, it } from "vitest";
import { silentLogger } from "../shared/index.ts";
import { createRootCa } from "../shared/index.ts";
import type { CaClient } from "../proxy/index.ts";
import { FileCaClient } from "../proxy/index.ts";
import { KernelNetwork } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";
import { Waypoint } from "./app.ts";

let wp: Waypoint | undefined;
afterEach(async () => {
  await wp?.stop();
  wp = undefined;
});

it("is not ready while the CA refuses, and ready once it answers", async () => {
  const real = FileCaClient.fromMaterial(await createRootCa({ trustDomain: "cluster.local" }));
  let failures = 2;
  const flaky: CaClient = {
    sign: (req) => (failures-- > 0 ? Promise.reject(new Error("CA unreachable")) : real.sign(req)),
    trustBundle: () => real.trustBundle(),
  };
  const store = new StateStore();
  store.replace({ workloads: [], services: [], policies: [] });
  wp = new Waypoint({
    gateway: { namespace: "demo", name: "waypoint" },
    identity: { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "waypoint" },
    listen: { host: "127.0.0.1", hbone: 0, metrics: 0, readiness: 0, admin: 0 },
    state: store,
    ca: flaky,
    network: new KernelNetwork(),
    log: silentLogger(),
  });
  await wp.start();
  expect(wp.readiness.waitingFor).toEqual(["certificate"]);
  const deadline = Date.now() + 10_000;
  while (!wp.readiness.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(wp.readiness.ready).toBe(true);
  expect(failures).toBeLessThan(0);
}, 15_000);
