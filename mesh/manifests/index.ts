// mesh/manifests: its only entry point for code outside the folder.
export * from "./bench-run.ts";
export * from "./benchmark.ts";
export * from "./cert-manager-check.ts";
export * from "./gitops.ts";
export * from "./istio.ts";
export * from "./kubelet-rules.ts";
export * from "./mesh-ca.ts";
export * from "./mesh.ts";
export * from "./monitoring.ts";
export * from "./proxy-credentials.ts";
export * from "./render-args.ts";
export * from "./samples.ts";
export * from "./sidecar.ts";
export * from "./validate.ts";
export * from "./waypoint.ts";
