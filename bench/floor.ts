// The floor relay pairs (bench/floor-relay.ts) as pods of the ztunnel benchmark's cluster: `floor-<f>/out`
// on the client's node tunnels its ports to `floor-<f>/in` on the server's node, which dials the plain
// server. Both present certificates from a throwaway mesh CA, as ztunnels do, and run with the node
// flags of the ztunnel image, so the comparison is of code, not of runtime settings.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { meshImages, NODE_BIN, type AppCommand } from "../mesh/local/index.ts";
import { createCsr, createRootCa, formatAddr, signWorkloadCert, type SockAddr } from "../mesh/shared/index.ts";

const RELAY = fileURLToPath(new URL("./floor-relay.ts", import.meta.url));
const WAYPOINT = fileURLToPath(new URL("./floor-waypoint.ts", import.meta.url));

export const FLOOR_PORTS = { http: 15001, bulk: 15002, hbone: 15008 } as const;

/** h2: HBONE with node:http2 and nothing else; tls: mutual TLS per connection, no framing at all. */
export type Framing = "h2" | "own" | "tls";

async function certFiles(dir: string, name: string, ca: Awaited<ReturnType<typeof createRootCa>>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const identity = { trustDomain: "cluster.local", namespace: "floor", serviceAccount: name };
  const { csrPem, keyPem } = await createCsr(identity);
  const cert = await signWorkloadCert({ ca, csrPem, identity, ttlSeconds: 86_400 });
  const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem"), ca: join(dir, "ca.pem") };
  await writeFile(files.cert, cert.chainPem.join(""));
  await writeFile(files.key, keyPem, { mode: 0o600 });
  await writeFile(files.ca, ca.rootPem);
  return ["--cert", files.cert, "--key", files.key, "--ca", files.ca];
}

/** The node flags an image's ENTRYPOINT gives (between `node` and the program). */
export function imageNodeFlags(image: "ztunnel" | "waypoint" | "control-plane"): string[] {
  const ep = meshImages().get(image)?.entrypoint ?? [];
  return ep.slice(1, -1);
}

/** The ENV an image sets (mesh/Dockerfile), for a benchmark that runs its program as the image does. */
export function imageEnv(image: "ztunnel" | "waypoint" | "control-plane"): Record<string, string> {
  return meshImages().get(image)?.env ?? {};
}

export function ztunnelNodeFlags(): string[] {
  return imageNodeFlags("ztunnel");
}

/** The two relays' commands; `outIp`/`inIp` are their pods' addresses, `http` and `bulk` the targets. */
export async function floorRelayApps(
  dir: string,
  framing: Framing,
  o: { outIp: string; inIp: string; http: SockAddr; bulk: SockAddr },
): Promise<{ out: AppCommand; in: AppCommand }> {
  const ca = await createRootCa({ trustDomain: "cluster.local" });
  const outDir = join(dir, `${framing}-out`);
  const inDir = join(dir, `${framing}-in`);
  const node = [...ztunnelNodeFlags(), RELAY];
  const out: AppCommand = {
    cmd: NODE_BIN,
    args: [
      ...node,
      "out",
      "--framing",
      framing,
      "--listen",
      o.outIp,
      "--via",
      formatAddr({ ip: o.inIp, port: FLOOR_PORTS.hbone }),
      "--route",
      `${FLOOR_PORTS.http}=${formatAddr(o.http)}`,
      "--route",
      `${FLOOR_PORTS.bulk}=${formatAddr(o.bulk)}`,
      ...(await certFiles(outDir, "out", ca)),
    ],
    ownedDirs: [outDir],
  };
  const inApp: AppCommand = {
    cmd: NODE_BIN,
    args: [...node, "in", "--framing", framing, "--listen", formatAddr({ ip: o.inIp, port: FLOOR_PORTS.hbone }), ...(await certFiles(inDir, "in", ca))],
    ownedDirs: [inDir],
  };
  return { out, in: inApp };
}

/**
 * The waypoint's floor (bench/floor-waypoint.ts) and the two relays around it, which stand in for the
 * ztunnels (HBONE on our own HTTP/2 throughout, as the mesh frames it): `out` tunnels FLOOR_PORTS.http to
 * the floor waypoint at `l7Ip`, which forwards each request
 * through `in` at `inIp` to `http`. The floor waypoint runs with the waypoint image's node flags.
 */
export async function floorWaypointApps(
  dir: string,
  o: { outIp: string; l7Ip: string; inIp: string; http: SockAddr },
): Promise<{ out: AppCommand; l7: AppCommand; in: AppCommand }> {
  const ca = await createRootCa({ trustDomain: "cluster.local" });
  const d = (n: string) => join(dir, `waypoint-${n}`);
  const relay = [...ztunnelNodeFlags(), RELAY];
  const hbone = (ip: string) => formatAddr({ ip, port: FLOOR_PORTS.hbone });
  return {
    out: {
      cmd: NODE_BIN,
      args: [
        ...relay,
        "out",
        "--framing",
        "own",
        "--listen",
        o.outIp,
        "--via",
        hbone(o.l7Ip),
        "--route",
        `${FLOOR_PORTS.http}=${formatAddr(o.http)}`,
        ...(await certFiles(d("out"), "out", ca)),
      ],
      ownedDirs: [d("out")],
    },
    l7: {
      cmd: NODE_BIN,
      args: [
        ...imageNodeFlags("waypoint"),
        WAYPOINT,
        "--listen",
        hbone(o.l7Ip),
        "--via",
        hbone(o.inIp),
        "--upstream",
        formatAddr(o.http),
        ...(await certFiles(d("l7"), "l7", ca)),
      ],
      ownedDirs: [d("l7")],
    },
    in: { cmd: NODE_BIN, args: [...relay, "in", "--framing", "own", "--listen", hbone(o.inIp), ...(await certFiles(d("in"), "in", ca))], ownedDirs: [d("in")] },
  };
}
