// rbac: L4 AuthorizationPolicy evaluation (DENY, then no-ALLOW-allows, then ALLOW must match).
export { evaluate, policyMatches, matchMatches, type ConnectionFacts, type Decision } from "./evaluate.ts";
