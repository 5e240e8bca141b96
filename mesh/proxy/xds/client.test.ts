// The config stream client against a control plane that sends broken resources: each bad one is NACKed
// by name (or by its place, when it has none) with the reason, the good ones apply, and the client
// keeps running. A real gRPC stream over HTTP/2 (our client, connect-node's server).
import http2 from "node:http2";
import type net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import {
  AddressSchema,
  AuthorizationSchema,
  DELTA_AGGREGATED_RESOURCES_ENCODED,
  DeltaDiscoveryResponseEncodedSchema,
  encodeResource,
} from "../../api/index.ts";
import { TYPE_ADDRESS, TYPE_AUTHORIZATION, workloadToProto, type DeltaDiscoveryRequest } from "../../api/index.ts";
import { silentLogger } from "../../shared/index.ts";
import { StateStore } from "../state/store.ts";
import { configStream, XdsClient } from "./client.ts";

const workload = (name: string) =>
  toBinary(
    AddressSchema,
    workloadToProto({
      uid: `K//Pod/demo/${name}`,
      name,
      namespace: "demo",
      ips: ["198.18.0.10"],
      trustDomain: "cluster.local",
      serviceAccount: "default",
      node: "n1",
      protocol: "HBONE",
      status: "Healthy",
      services: new Map(),
      authorizationPolicies: [],
      canonicalName: name,
      canonicalRevision: "latest",
      workloadName: name,
    }),
  );

let server: http2.Http2Server | undefined;
let client: XdsClient | undefined;
afterEach(async () => {
  await client?.close();
  server?.close();
});

describe("XdsClient with a control plane sending broken resources", () => {
  it("NACKs each bad resource with its reason, applies the rest, and keeps the stream", async () => {
    const acks: DeltaDiscoveryRequest[] = [];
    const respond = (typeUrl: string, resources: Uint8Array[], nonce: string) =>
      create(DeltaDiscoveryResponseEncodedSchema, { systemVersionInfo: "1", typeUrl, resources, nonce });
    server = http2.createServer(
      connectNodeAdapter({
        routes: (router) =>
          router.rpc(DELTA_AGGREGATED_RESOURCES_ENCODED, async function* (reqs) {
            yield respond(
              TYPE_ADDRESS,
              [
                encodeResource("K//Pod/demo/good", "v1", TYPE_ADDRESS, workload("good")),
                Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), // a name longer than the message
                encodeResource("K//Pod/demo/wrong-type", "v1", TYPE_AUTHORIZATION, workload("wrong-type")),
                encodeResource("K//Pod/demo/empty", "v1", TYPE_ADDRESS, new Uint8Array(0)), // an Address that is neither kind
                Uint8Array.of(0x0a, 0x07, ...new TextEncoder().encode("no-body")),
                encodeResource("K//Pod/demo/garbage", "v1", TYPE_ADDRESS, Uint8Array.of(0x0a, 0x20, 0x01)),
              ],
              "a",
            );
            yield respond(
              TYPE_AUTHORIZATION,
              [
                encodeResource(
                  "demo/p",
                  "v1",
                  TYPE_AUTHORIZATION,
                  toBinary(AuthorizationSchema, create(AuthorizationSchema, { name: "p", namespace: "demo" })),
                ),
              ],
              "b",
            );
            for await (const r of reqs) if (r.responseNonce) acks.push(r);
          }),
      }),
    );
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const stream = configStream({ address: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
    const store = new StateStore();
    client = new XdsClient({ stream, node: "n1", clusterId: "Kubernetes", store, log: silentLogger() });
    await client.start();
    for (let i = 0; i < 200 && acks.length < 2; i++) await new Promise((r) => setTimeout(r, 10));

    const nack = acks.find((a) => a.responseNonce === "a")!;
    expect(Object.keys(nack.errorDetail?.resourceErrors ?? {}).sort()).toEqual([
      "K//Pod/demo/empty",
      "K//Pod/demo/garbage",
      "K//Pod/demo/wrong-type",
      "no-body",
      "resources[1]",
    ]);
    expect(nack.errorDetail?.resourceErrors["K//Pod/demo/wrong-type"]).toContain("resource is not a ambientlab.v1.Address");
    expect(nack.errorDetail?.resourceErrors["no-body"]).toContain("resource body is missing");
    expect(nack.errorDetail?.resourceErrors["K//Pod/demo/empty"]).toContain("neither a workload nor a service");
    expect(acks.find((a) => a.responseNonce === "b")?.errorDetail).toBeUndefined();
    expect(store.current.workloads.map((w) => w.uid)).toEqual(["K//Pod/demo/good"]);
    expect(store.current.policies.map((p) => p.name)).toEqual(["p"]);
    expect(client.connected).toBe(true);
  });
});
