// api: the wire contract between the control plane and the proxies. Protobuf definitions live in
// proto/ (generated code in gen/, `npm run gen:api`); types.ts is the resource model both ends use.
// The generated messages share names with the model (Workload, Authorization...): only the schemas and
// services the two ends need are exported, under their generated names.
export * from "./types.ts";
export * from "./convert.ts";
export { WireCursor } from "./wire-cursor.ts";
export { workloadAt } from "./wire-workload.ts";
export { authorizationFieldsAt } from "./wire-authorization.ts";
export { configResponseFromBinary, resourcesOf, type ConfigResponse } from "./wire-response.ts";
export {
  addressAt,
  addressFieldsFromBinary,
  envelopeAt,
  envelopeFromBinary,
  resourceFieldsFromBinary,
  type EnvelopeFields,
  type ResourceFields,
} from "./wire-read.ts";
export {
  DELTA_AGGREGATED_RESOURCES_ENCODED,
  DELTA_AGGREGATED_RESOURCES_PATH,
  encodeResource,
  joinResources,
  responseChunks,
  withJoinedResources,
} from "./ads-encoded.ts";
export * from "./convert-l7.ts";
export * from "./string-match.ts";
export { AuthorizationSchema } from "./gen/ambientlab/v1/authorization_pb.js";
export {
  CertificateService,
  CertificateRequestSchema,
  CertificateResponseSchema,
  type CertificateRequest as CertificateRequestMessage,
} from "./gen/ambientlab/v1/ca_pb.js";
export {
  AggregatedDiscoveryService,
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DeltaDiscoveryResponseEncodedSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DeltaDiscoveryResponseEncoded,
} from "./gen/ambientlab/v1/discovery_pb.js";
export { HttpRouteSchema, L7PolicySchema } from "./gen/ambientlab/v1/waypoint_pb.js";
export { AddressSchema } from "./gen/ambientlab/v1/workload_pb.js";
export { EchoService, EchoRequestSchema, EchoResponseSchema } from "./gen/ambientlab/v1/echo_pb.js";
export * from "./labels.ts";
