// api: the wire contract between the control plane and the proxies. Protobuf definitions live in
// proto/ (generated code in gen/, `npm run gen:api`); types.ts is the resource model both ends use.
export * from "./types.ts";
export * from "./convert.ts";
