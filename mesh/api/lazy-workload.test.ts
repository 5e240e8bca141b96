import v8 from "node:v8";
import vm from "node:vm";
import { inspect } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AddressSchema, WorkloadSchema, type Workload as WorkloadMessage } from "./gen/ambientlab/v1/workload_pb.js";
import { ResourceSchema } from "./gen/ambientlab/v1/discovery_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { LazyWorkload } from "./lazy-workload.ts";
import { envelopeFromBinary } from "./wire-read.ts";
import { workloadAt } from "./wire-workload.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const TYPE = "type.googleapis.com/ambientlab.v1.Address";
function resource(w: MessageInitShape<typeof WorkloadSchema>): Uint8Array {
  const address = toBinary(AddressSchema, create(AddressSchema, { type: { case: "workload", value: create(WorkloadSchema, w) } }));
  return toBinary(ResourceSchema, create(ResourceSchema, { name: w.uid ?? "", version: "v", resource: { typeUrl: TYPE, value: address } }));
}
const read = (bytes: Uint8Array) => workloadAt(bytes, envelopeFromBinary(bytes));
const base = { uid: "u1", name: "pod-1", namespace: "ns", addresses: ["198.18.0.1"], node: "n1" } satisfies Partial<WorkloadMessage>;

describe("LazyWorkload", () => {
  it("reads the fields no index needs on first use, with the same defaults as the eager reader", () => {
    const w = read(resource({ ...base, authorizationPolicies: ["ns/a", "ns/b"], canonicalRevision: "v2", workloadName: "pod-1" }))!;
    expect(w).toBeInstanceOf(LazyWorkload);
    expect(w.name).toBe("pod-1");
    expect(w.namespace).toBe("ns");
    expect(w.trustDomain).toBe("cluster.local");
    expect(w.serviceAccount).toBe("default");
    expect(w.authorizationPolicies).toEqual(["ns/a", "ns/b"]);
    expect(w.canonicalName).toBe("pod-1");
    expect(w.canonicalRevision).toBe("v2");
    expect(w.workloadName).toBe(w.name);
    expect(JSON.parse(JSON.stringify(w))).toMatchObject({ uid: "u1", name: "pod-1", namespace: "ns", ips: ["198.18.0.1"], canonicalRevision: "v2" });
    expect(Object.keys((w as LazyWorkload).toJSON())).toEqual([
      "uid",
      "name",
      "namespace",
      "ips",
      "trustDomain",
      "serviceAccount",
      "node",
      "protocol",
      "status",
      "services",
      "authorizationPolicies",
      "canonicalName",
      "canonicalRevision",
      "workloadName",
    ]);
    expect(inspect(w)).toContain("name: 'pod-1'");
  });

  it("is refused on arrival when a field it reads later is not UTF-8 or a required one is empty", () => {
    const good = resource(base);
    expect(read(good)).toBeDefined();
    const at = (bytes: Uint8Array, s: string) => Buffer.from(bytes).indexOf(Buffer.from(s));
    for (const field of ["name", "namespace", "trustDomain", "serviceAccount", "canonicalName", "canonicalRevision", "workloadName", "clusterId"] as const) {
      const bytes = resource({ ...base, [field]: "zzzzzz" });
      bytes[at(bytes, "zzzzzz") + 2] = 0xff;
      expect(read(bytes), field).toBeUndefined();
    }
    const policy = resource({ ...base, authorizationPolicies: ["ns/zzzzzz"] });
    policy[at(policy, "zzzzzz")] = 0xc0;
    expect(read(policy)).toBeUndefined();
    expect(read(resource({ ...base, name: "" }))).toBeUndefined();
    expect(read(resource({ ...base, namespace: "" }))).toBeUndefined();
    // Valid UTF-8 beyond ASCII is taken, and read as such later.
    expect(read(resource({ ...base, canonicalName: "pödé" }))!.canonicalName).toBe("pödé");
  });

  it("holds its bytes until they are read, then lets them go", async () => {
    let bytes: Uint8Array | undefined = resource(base);
    const buffer = new WeakRef(bytes.buffer);
    const w = read(bytes)!;
    bytes = undefined;
    const collected = async () => {
      // A WeakRef's target lives at least until the current job ends.
      await new Promise((r) => setTimeout(r, 0));
      gc();
      return buffer.deref() === undefined;
    };
    expect(await collected()).toBe(false);
    expect(w.name).toBe("pod-1");
    expect(await collected()).toBe(true);
    expect(w.serviceAccount).toBe("default");
  });
});
