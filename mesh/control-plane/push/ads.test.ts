// What a fresh proxy is sent: the whole type joined once per snapshot version and shared by every fresh
// subscription, joined again only for a new version, and the old one's bytes let go.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DeltaDiscoveryRequestSchema, TYPE_ADDRESS, type DeltaDiscoveryRequest } from "../../api/index.ts";
import { AsyncQueue, silentLogger } from "../../shared/index.ts";
import { snapshotFromYaml } from "../model/manifests.ts";
import { ObjectStore } from "../store/object-store.ts";
import { DEFAULT_TRANSLATE_OPTIONS } from "../translate/index.ts";
import { AdsServer } from "./ads.ts";
import { ControlPlaneMetrics } from "./metrics.ts";
import { SnapshotBuilder } from "./snapshot.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const base = snapshotFromYaml(readFileSync(join(import.meta.dirname, "../translate/testdata/enrollment.in.yaml"), "utf8"));

/** The joined resources of the first Address response a fresh subscription gets. */
async function firstJoined(ads: AdsServer): Promise<Uint8Array> {
  const requests = new AsyncQueue<DeltaDiscoveryRequest>();
  requests.push(
    create(DeltaDiscoveryRequestSchema, { typeUrl: TYPE_ADDRESS, resourceNamesSubscribe: ["*"], node: { id: "ztunnel~node-1", nodeName: "node-1" } }),
  );
  const responses = ads.stream(requests, "Bearer t");
  const first = await responses.next();
  requests.close();
  await responses.return(undefined);
  const data = first.value?.$unknown?.[0]?.data;
  if (!data) throw new Error("the first response carries no joined resources");
  return data;
}

describe("AdsServer's whole-type responses", () => {
  it("are joined once per snapshot version, even across translations that changed nothing, and let go for a new one", async () => {
    const store = new ObjectStore();
    store.replace(base as unknown as Parameters<ObjectStore["replace"]>[0]);
    const builder = new SnapshotBuilder({ store, translate: DEFAULT_TRANSLATE_OPTIONS, debounceMs: 0, log: silentLogger() });
    builder.start();
    builder.rebuild();
    const ads = new AdsServer({
      builder,
      auth: { authenticate: async () => ({ subject: "test", node: "node-1" }) },
      metrics: new ControlPlaneMetrics(),
      log: silentLogger(),
    });
    ads.start();
    try {
      let first: Uint8Array | undefined = await firstJoined(ads);
      expect(await firstJoined(ads)).toBe(first);

      // A change that leaves the translation as it was: a new snapshot object, the same version.
      const before = builder.current!;
      const ns = base.Namespace.find((n) => n.metadata?.name === "baseline")!;
      store.upsert("Namespace", { ...ns, metadata: { ...ns.metadata, annotations: { note: "irrelevant" } } });
      builder.rebuild();
      expect(builder.current).not.toBe(before);
      expect(builder.current!.version).toBe(before.version);
      expect(await firstJoined(ads)).toBe(first);

      // A pod's new version label: a new snapshot version, joined anew, and the old bytes released.
      const pod = base.Pod.find((p) => p.metadata?.name === "sleep")!;
      store.upsert("Pod", { ...pod, metadata: { ...pod.metadata, labels: { app: "sleep", version: "v2" } } });
      builder.rebuild();
      expect(builder.current!.version).toBe(before.version + 1);
      // Released as soon as the new version is out, before any fresh proxy asks for it.
      const old = new WeakRef(first.buffer);
      first = undefined;
      await new Promise((r) => setTimeout(r, 0));
      gc();
      expect(old.deref()).toBeUndefined();
      const next = await firstJoined(ads);
      expect(await firstJoined(ads)).toBe(next);
    } finally {
      ads.stop();
      builder.stop();
    }
  });
});
