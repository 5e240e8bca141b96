// mesh/control-plane: its only entry point for code outside the folder.
export * from "./auth/authenticator.ts";
export * from "./model/kube.ts";
export * from "./model/manifests.ts";
export * from "./push/snapshot.ts";
export * from "./translate/index.ts";
export * from "./translate/options.ts";
export * from "./translate/policies.ts";
export * from "./waypoints/objects.ts";
export { injectionDecision, INJECT_LABEL, NAMESPACE_INJECTION_LABEL, type InjectionDecision } from "./injection/decide.ts";
