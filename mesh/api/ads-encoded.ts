// The config stream as the control plane serves it: responses carry resources encoded once, when they
// change (DeltaDiscoveryResponseEncoded in discovery.proto, wire-identical to DeltaDiscoveryResponse), so a
// push to N proxies copies bytes N times instead of encoding every resource N times.
import { create, toBinary } from "@bufbuild/protobuf";
import { AggregatedDiscoveryService, DeltaDiscoveryResponseEncodedSchema, ResourceSchema } from "./gen/ambientlab/v1/discovery_pb.js";

/** DeltaAggregatedResources with the encoded response type: the same service, method and path. */
export const DELTA_AGGREGATED_RESOURCES_ENCODED = {
  ...AggregatedDiscoveryService.method.deltaAggregatedResources,
  output: DeltaDiscoveryResponseEncodedSchema,
};

/**
 * The service with that method, for clients: proxies receive the resources as bytes too and read each
 * with resourceFieldsFromBinary (wire-read.ts), instead of the reflective decoder building a message per
 * resource and per Any.
 */
export const AGGREGATED_DISCOVERY_ENCODED = {
  ...AggregatedDiscoveryService,
  methods: [DELTA_AGGREGATED_RESOURCES_ENCODED],
  method: { deltaAggregatedResources: DELTA_AGGREGATED_RESOURCES_ENCODED },
};

/** One Resource message (name, version, the value as an Any of `typeUrl`), for DeltaDiscoveryResponseEncoded.resources. */
export function encodeResource(name: string, version: string, typeUrl: string, value: Uint8Array): Uint8Array {
  return toBinary(ResourceSchema, create(ResourceSchema, { name, version, resource: { typeUrl, value } }));
}
