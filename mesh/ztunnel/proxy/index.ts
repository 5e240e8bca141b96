// proxy: the data path. Outbound capture (15001), inbound HBONE (15008), inbound plaintext (15006),
// the HBONE connection pool, and the bookkeeping every connection shares.
export { OutboundServer } from "./outbound.ts";
export { HboneServer } from "./hbone-server.ts";
export { InboundPlaintextServer } from "./inbound-plain.ts";
export { HbonePool, type HboneRequest } from "./hbone-pool.ts";
export { planOutbound, type OutboundPlan, type PlanInput } from "./outbound-plan.ts";
export { KernelNetwork, connectTcp, type Network } from "./network.ts";
export { ConnectionTracker, type TrackedConnection } from "./tracker.ts";
export { DEFAULT_TUNING, identityOf, type ProxyContext, type ProxyTuning } from "./context.ts";
export { originalDst } from "./orig-dst.ts";
