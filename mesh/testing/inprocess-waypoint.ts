// A waypoint beside an in-process mesh: its pod's own HBONE listener on `host` (port 0), registered so
// the mesh's ztunnels reach it, config from a StateStore the test owns, certificates from the mesh's CA.
//   const waypoint = await inProcessWaypoint(mesh, { host: "127.0.4.10", namespace: "demo", state: store });
import type { Logger } from "../shared/index.ts";
import { silentLogger } from "../shared/index.ts";
import { FileCaClient, type StateStore } from "../proxy/index.ts";
import { Waypoint } from "../waypoint/index.ts";
import type { InProcessMesh } from "./inprocess.ts";

export async function inProcessWaypoint(
  mesh: InProcessMesh,
  o: { host: string; namespace: string; state: StateStore; accessLog?: Logger; sniffTimeoutMs?: number },
): Promise<Waypoint> {
  const waypoint = new Waypoint({
    gateway: { namespace: o.namespace, name: "waypoint" },
    identity: { trustDomain: "cluster.local", namespace: o.namespace, serviceAccount: "waypoint" },
    listen: { host: o.host, hbone: 0, metrics: 0, readiness: 0, admin: 0 },
    state: o.state,
    ca: FileCaClient.fromMaterial(mesh.ca),
    network: mesh.network,
    log: silentLogger(),
    pick: () => 0,
    ...(o.accessLog ? { accessLog: o.accessLog } : {}),
    ...(o.sniffTimeoutMs ? { sniffTimeoutMs: o.sniffTimeoutMs } : {}),
  });
  await waypoint.start();
  mesh.network.hboneListeners.set(o.host, waypoint.addresses().hbone);
  return waypoint;
}
