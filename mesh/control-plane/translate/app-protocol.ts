// What a Kubernetes Service port says it speaks, read as Istio's explicit protocol selection does: the
// port's appProtocol when set, else its name as `<protocol>[-<suffix>]`, case-insensitive. Only what
// changes how a waypoint talks to the port's endpoints is kept: HTTP/1.1, HTTP/2 (h2c) or gRPC.
import type { AppProtocol } from "../../api/index.ts";

const BY_APP_PROTOCOL: Record<string, AppProtocol> = {
  http: "http",
  http2: "http2",
  grpc: "grpc",
  // gRPC-Web runs over HTTP/1.1; WebSockets are HTTP/1.1 upgrades.
  "grpc-web": "http",
  "kubernetes.io/h2c": "http2",
  "kubernetes.io/ws": "http",
};

/** The port's declared protocol, or undefined (TCP, TLS, anything else, or nothing declared). */
export function appProtocolOf(port: { name?: string | undefined; appProtocol?: string | undefined }): AppProtocol | undefined {
  if (port.appProtocol) return BY_APP_PROTOCOL[port.appProtocol.toLowerCase()];
  const name = port.name?.toLowerCase();
  if (!name) return undefined;
  if (name === "grpc-web" || name.startsWith("grpc-web-")) return "http";
  return BY_APP_PROTOCOL[name.split("-")[0]!];
}
