// redirect: node-level traffic capture with nftables, installed and removed by ztunnel itself.
export { renderTable, renderSetUpdate, renderDelete, TABLE, type CapturePorts } from "./rules.ts";
export { NftCapture, enrolledIps, type RunCommand } from "./capture.ts";
