// ztunnel state: the workloads, services and policies the proxy acts on, and where they come from.
export * from "./types.ts";
export { parseLocalConfig, convertConfig, type ParsedConfig, type ConfigSnapshot, type Rejection } from "./local-config.ts";
export { ProxyState, type Endpoint } from "./snapshot.ts";
export { StateStore, type StateListener } from "./store.ts";
export { LocalConfigSource } from "./file-source.ts";
