// The proxy's resource shapes are the wire contract's (mesh/api): re-exported for the state module.
export * from "../../api/index.ts";
