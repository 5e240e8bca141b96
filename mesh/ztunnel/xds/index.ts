// xds: ztunnel's client of the control plane's config stream, and the transport both it and the
// certificate client use.
export { XdsClient } from "./client.ts";
export { controlPlaneTransport, type ControlPlaneEndpoint } from "./transport.ts";
