import { describe, expect, it } from "vitest";
import { ManualClock } from "../../shared/index.ts";
import { silentLogger } from "../../shared/index.ts";
import { createRootCa } from "../../shared/index.ts";
import { CertManager } from "./cert-manager.ts";
import { FileCaClient } from "./file-ca.ts";
import type { CaClient, CertificateRequest } from "./ca-client.ts";
import { eventually } from "../../testing/expect.ts";

const id = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };

async function flaky(): Promise<CaClient & { fail: boolean; calls: number }> {
  const inner = FileCaClient.fromMaterial(await createRootCa({ trustDomain: "cluster.local" }));
  const ca = {
    fail: false,
    calls: 0,
    async sign(req: CertificateRequest) {
      ca.calls++;
      if (ca.fail) throw new Error("CA unavailable");
      return inner.sign(req);
    },
    trustBundle: () => inner.trustBundle(),
  };
  return ca;
}

describe("CertManager", () => {
  it("fetches once for concurrent callers and renews at half-life", async () => {
    const ca = await flaky();
    const clock = new ManualClock(Date.now());
    const m = new CertManager({ ca, ttlSeconds: 3600, log: silentLogger(), clock });
    const [a, b] = await Promise.all([m.get(id), m.get(id)]);
    expect(a).toBe(b);
    expect(ca.calls).toBe(1);
    clock.advance(1700_000); // not yet half of (3600 s + 60 s skew allowance)
    expect(ca.calls).toBe(1);
    clock.advance(200_000);
    await eventually(() => m.dump()[0]?.serial !== a.serial);
    expect(ca.calls).toBe(2);
    m.close();
  });

  it("keeps the old certificate and retries with growing backoff when renewal fails", async () => {
    const ca = await flaky();
    const clock = new ManualClock(Date.now());
    const m = new CertManager({ ca, ttlSeconds: 3600, log: silentLogger(), clock, random: () => 1 });
    const first = await m.get(id);
    ca.fail = true;
    clock.advance(1900_000);
    await eventually(() => m.dump()[0]?.lastError !== undefined);
    expect(await m.get(id)).toBe(first);
    expect(m.dump()[0]).toMatchObject({ state: "Available", serial: first.serial });
    const calls = ca.calls;
    clock.advance(500);
    await eventually(() => ca.calls === calls + 1);
    clock.advance(999); // second retry waits 1000 ms
    await new Promise((r) => setTimeout(r, 30));
    expect(ca.calls).toBe(calls + 1);
    ca.fail = false;
    clock.advance(1);
    await eventually(() => m.dump()[0]?.serial !== first.serial && m.dump()[0]?.lastError === undefined);
    m.close();
  });

  it("reports a clear error when the first request fails, and forgets identities no longer tracked", async () => {
    const ca = await flaky();
    ca.fail = true;
    const m = new CertManager({ ca, ttlSeconds: 3600, log: silentLogger(), clock: new ManualClock() });
    await expect(m.get(id)).rejects.toThrow(/no certificate for spiffe:\/\/cluster.local\/ns\/demo\/sa\/sleep: is the CA reachable/);
    m.track([]);
    expect(m.dump()).toEqual([]);
    m.close();
  });
});
