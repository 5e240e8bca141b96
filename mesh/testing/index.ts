// mesh/testing: its only entry point for code outside the folder.
export * from "./capture.ts";
export * from "./cluster-apiserver.ts";
export * from "./echo.ts";
export * from "./fake-apiserver.ts";
export * from "./fuzz-network.ts";
export * from "./fuzz-targets.ts";
export * from "./gitops-fixture.ts";
export * from "./grpc-echo.ts";
export * from "./grpc-server.ts";
export * from "./h2-raw.ts";
export * from "./inprocess.ts";
export * from "./inprocess-waypoint.ts";
export * from "./loopback-network.ts";
export * from "./wait.ts";
export * from "./mesh-metrics.ts";
export * from "./wire-fuzz.ts";
