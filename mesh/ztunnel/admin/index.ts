// admin: the HTTP endpoints operators and Prometheus talk to.
export { adminHandler, metricsHandler, readinessHandler, type AdminDeps } from "./admin.ts";
