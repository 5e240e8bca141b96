// proxy: ztunnel's data path. Outbound capture (15001), inbound HBONE (15008), inbound plaintext (15006),
// and the bookkeeping every connection shares. The HBONE pool, guard and network are the shared core's
// (mesh/proxy).
export { OutboundServer } from "./outbound.ts";
export { HboneServer } from "./hbone-server.ts";
export { InboundPlaintextServer } from "./inbound-plain.ts";
export { planOutbound, type OutboundPlan, type PlanInput } from "./outbound-plan.ts";
export { ConnectionTracker, type TrackedConnection } from "./tracker.ts";
export { servesFor, type ProxyContext } from "./context.ts";
