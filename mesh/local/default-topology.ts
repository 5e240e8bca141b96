// The default single-machine cluster: two namespaces, one in the mesh and one not, each with Istio's
// sample shapes: sleep (a curl client) on the first node, httpbin (Debian's python3-httpbin under
// gunicorn) and bench-server (nginx answering 1 KB) on the last node; the mesh namespace also has a
// waypoint (its Gateway, pod and Service, as Istio's deployment controller would create them) and an
// echo pod (the gRPC Echo sample and a WebSocket echo, for HTTP/2, gRPC and Upgrade through the
// waypoint); and sidecar-demo runs sleep and bench-server with our proxy as a sidecar, for the
// sidecar-vs-ambient benchmark. Service ports are named as Istio's samples name them (http, grpc).
import { join } from "node:path";
import { echoApp, nginxApp } from "./apps.ts";
import type { ClusterPod, ClusterSpec } from "./cluster.ts";
import type { ServiceSpec } from "./config-render.ts";

export const DEMO_NAMESPACES = { mesh: "ambient-demo", plain: "baseline", sidecar: "sidecar-demo" } as const;
export const WAYPOINT = "waypoint";

export function httpbinApp(port = 8080): { cmd: string; args: string[] } {
  return { cmd: "gunicorn", args: ["--bind", `0.0.0.0:${port}`, "--workers", "1", "--threads", "4", "--access-logfile", "-", "httpbin:app"] };
}

export async function defaultTopology(opts: { nodes: number; workDir: string; prefix: string }): Promise<ClusterSpec> {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 20) throw new Error(`--nodes must be 1..20, got ${opts.nodes}`);
  const nodes = Array.from({ length: opts.nodes }, (_, i) => `node-${i + 1}`);
  const client = nodes[0]!;
  // The servers spread over every node but the clients' (all of them with one node), so each extra
  // node carries traffic: with two nodes they all share node-2; with five, node-2 to node-5 take turns.
  const serverNodes = nodes.length > 1 ? nodes.slice(1) : nodes;
  let turn = 0;
  const server = () => serverNodes[turn++ % serverNodes.length]!;
  const pods: ClusterPod[] = [];
  for (const ns of [DEMO_NAMESPACES.mesh, DEMO_NAMESPACES.plain]) {
    const ambient = ns === DEMO_NAMESPACES.mesh;
    pods.push(
      { namespace: ns, name: "sleep", node: client, serviceAccount: "sleep", ambient },
      { namespace: ns, name: "httpbin", node: server(), serviceAccount: "httpbin", ambient, app: httpbinApp() },
      {
        namespace: ns,
        name: "bench-server",
        node: server(),
        serviceAccount: "bench-server",
        ambient,
        app: await nginxApp(join(opts.workDir, `nginx-${ns}`), 8080, 1024),
      },
    );
  }
  pods.push({ namespace: DEMO_NAMESPACES.mesh, name: "echo", node: server(), serviceAccount: "echo", ambient: true, app: echoApp("echo") });
  // The mesh namespace's waypoint (Gateway "waypoint", for service traffic), idle until something binds
  // to it with istio.io/use-waypoint=waypoint.
  pods.push({ namespace: DEMO_NAMESPACES.mesh, name: WAYPOINT, node: server(), serviceAccount: WAYPOINT, ambient: false, gateway: WAYPOINT });
  // The sidecar mode, for comparison: each pod runs our proxy beside the application.
  pods.push(
    { namespace: DEMO_NAMESPACES.sidecar, name: "sleep", node: client, serviceAccount: "sleep", ambient: false, sidecar: true },
    {
      namespace: DEMO_NAMESPACES.sidecar,
      name: "bench-server",
      node: server(),
      serviceAccount: "bench-server",
      ambient: false,
      sidecar: true,
      app: await nginxApp(join(opts.workDir, "nginx-sidecar"), 8080, 1024),
    },
  );
  const services: ServiceSpec[] = [DEMO_NAMESPACES.mesh, DEMO_NAMESPACES.plain].flatMap((ns) => [
    { namespace: ns, name: "httpbin", selector: ["httpbin"], ports: [{ port: 8000, targetPort: 8080, name: "http" }] },
    { namespace: ns, name: "bench-server", selector: ["bench-server"], ports: [{ port: 8080, targetPort: 8080, name: "http" }] },
  ]);
  services.push({
    namespace: DEMO_NAMESPACES.mesh,
    name: "echo",
    selector: ["echo"],
    ports: [
      { port: 9090, targetPort: 9090, name: "grpc" },
      { port: 8080, targetPort: 8080, name: "http-ws" },
    ],
  });
  services.push({
    namespace: DEMO_NAMESPACES.sidecar,
    name: "bench-server",
    selector: ["bench-server"],
    ports: [{ port: 8080, targetPort: 8080, name: "http" }],
  });
  services.push({
    namespace: DEMO_NAMESPACES.mesh,
    name: WAYPOINT,
    selector: [WAYPOINT],
    ports: [{ port: 15008, targetPort: 15008 }],
    labels: { "gateway.networking.k8s.io/gateway-name": WAYPOINT },
  });
  return {
    prefix: opts.prefix,
    nodes,
    pods,
    services,
    workDir: opts.workDir,
    gateways: [{ namespace: DEMO_NAMESPACES.mesh, name: WAYPOINT, waypointFor: "service" }],
  };
}
