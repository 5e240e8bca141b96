// mesh/local: its only entry point for code outside the folder.
export * from "./apps.ts";
export * from "./cluster.ts";
export * from "./prereqs.ts";
export * from "./process-key.ts";
export * from "./progress.ts";
