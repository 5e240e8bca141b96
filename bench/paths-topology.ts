// The cluster the waypoint benchmark and the soak share: one client and one server per path, so the
// same load can go through no mesh (plain), the ztunnels (mesh), the sidecar mode (legacy) and the
// ztunnels plus a waypoint (mesh/server-wp, an HTTPRoute on a Service bound to it); and gRPC, the Echo
// sample (mesh/grpc) behind a Service (port named grpc) for the ztunnels alone and one bound to the waypoint.
import { join } from "node:path";
import { bundle } from "../mesh/build.ts";
import { echoApp, nginxApp } from "../mesh/local/index.ts";
import { type ClusterSpec, type LocalCluster } from "../mesh/local/index.ts";
import { LABELS } from "../mesh/api/index.ts";

export const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: server-wp, namespace: mesh }
spec:
  parentRefs: [{ group: "", kind: Service, name: server-wp, port: 8080 }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: / } }], backendRefs: [{ name: server-wp, port: 8080 }] }]
`;

export async function pathsTopology(o: { prefix: string; workDir: string; payloadBytes: number }): Promise<ClusterSpec> {
  // The artifacts that ship: the bundles, run by the images' ENTRYPOINTs (mesh/Dockerfile).
  for (const program of ["control-plane", "ztunnel", "waypoint"] as const) await bundle(program);
  return {
    prefix: o.prefix,
    nodes: ["node-1", "node-2"],
    workDir: o.workDir,
    pods: [
      { namespace: "mesh", name: "client", node: "node-1", serviceAccount: "client", ambient: true },
      {
        namespace: "mesh",
        name: "server",
        node: "node-2",
        serviceAccount: "server",
        ambient: true,
        app: await nginxApp(join(o.workDir, "nginx"), 8080, o.payloadBytes),
      },
      { namespace: "mesh", name: "grpc", node: "node-2", serviceAccount: "grpc", ambient: true, app: echoApp("grpc") },
      { namespace: "mesh", name: "waypoint", node: "node-1", serviceAccount: "waypoint", ambient: false, gateway: "waypoint" },
      { namespace: "legacy", name: "client", node: "node-1", serviceAccount: "client", ambient: false, sidecar: true },
      {
        namespace: "legacy",
        name: "server",
        node: "node-2",
        serviceAccount: "server",
        ambient: false,
        sidecar: true,
        app: await nginxApp(join(o.workDir, "nginx-sidecar"), 8080, o.payloadBytes),
      },
      { namespace: "plain", name: "client", node: "node-1", serviceAccount: "client", ambient: false },
      {
        namespace: "plain",
        name: "server",
        node: "node-2",
        serviceAccount: "server",
        ambient: false,
        app: await nginxApp(join(o.workDir, "nginx-plain"), 8080, o.payloadBytes),
      },
    ],
    services: [
      { namespace: "plain", name: "server", selector: ["server"], ports: [{ port: 8080, targetPort: 8080 }] },
      { namespace: "legacy", name: "server", selector: ["server"], ports: [{ port: 8080, targetPort: 8080 }] },
      { namespace: "mesh", name: "server", selector: ["server"], ports: [{ port: 8080, targetPort: 8080 }] },
      // The same pod behind a second Service that is bound to the waypoint.
      {
        namespace: "mesh",
        name: "server-wp",
        selector: ["server"],
        ports: [{ port: 8080, targetPort: 8080 }],
        labels: { [LABELS.useWaypoint]: "waypoint" },
      },
      { namespace: "mesh", name: "grpc", selector: ["grpc"], ports: [{ port: 9090, targetPort: 9090, name: "grpc" }] },
      {
        namespace: "mesh",
        name: "grpc-wp",
        selector: ["grpc"],
        ports: [{ port: 9090, targetPort: 9090, name: "grpc" }],
        labels: { [LABELS.useWaypoint]: "waypoint" },
      },
      {
        namespace: "mesh",
        name: "waypoint",
        selector: ["waypoint"],
        ports: [{ port: 15008, targetPort: 15008 }],
        labels: { [LABELS.gatewayName]: "waypoint" },
      },
    ],
    gateways: [{ namespace: "mesh", name: "waypoint" }],
    ztunnelEnv: { LOG_LEVEL: "warn" },
    bundles: true,
  };
}

export function pathUrl(cluster: LocalCluster, service: string, port = 8080): string {
  return `http://${cluster.service(service).vip}:${port}/`;
}

/** Applies the HTTPRoute and waits until the waypoint routes with it. */
export async function routeThroughWaypoint(cluster: LocalCluster): Promise<void> {
  await cluster.applyManifest("route", ROUTE);
  for (let i = 0; i < 100; i++) {
    const r = await cluster.exec("mesh/client", "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "1", pathUrl(cluster, "mesh/server-wp")]);
    if (r.stdout === "200") return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error("the waypoint did not route mesh/server-wp within 10 s");
}
