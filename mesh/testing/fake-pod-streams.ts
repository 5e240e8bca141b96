// The API server's pod streaming endpoints for the in-test API server: exec and portforward over
// WebSocket with the channel protocol (v4.channel.k8s.io) that @kubernetes/client-node speaks. Each
// message is one byte of channel then data: exec writes stdout on 1, stderr on 2 and a Status on 3;
// port-forward carries data on 0 and errors on 1, each channel's first frame being the port (uint16 LE).
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

export interface PodStreamHandlers {
  exec?: (namespace: string, pod: string, container: string, command: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  /** A connection to the pod's localhost:port (what the kubelet opens in the pod's network namespace). */
  portForward?: (namespace: string, pod: string, port: number) => Promise<Duplex>;
}

const PROTOCOL = "v4.channel.k8s.io";
const frame = (channel: number, data: Buffer | string) => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);

export function exitStatus(code: number): object {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

/** Serves exec and portforward upgrades on `server`; other upgrades are refused. Returns a closer. */
export function attachPodStreams(server: http.Server, handlers: PodStreamHandlers): () => void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has(PROTOCOL) ? PROTOCOL : false) });
  const open = new Set<WebSocket>();
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|portforward)$/.exec(url.pathname);
    if (!m || !handlers[m[3] === "exec" ? "exec" : "portForward"]) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on("close", () => open.delete(ws));
      if (m[3] === "exec") void serveExec(ws, handlers.exec!, m[1]!, m[2]!, url);
      else void serveForward(ws, handlers.portForward!, m[1]!, m[2]!, Number(url.searchParams.get("ports")));
    });
  });
  return () => {
    for (const ws of open) ws.terminate();
    wss.close();
  };
}

async function serveExec(ws: WebSocket, exec: NonNullable<PodStreamHandlers["exec"]>, ns: string, pod: string, url: URL): Promise<void> {
  try {
    const r = await exec(ns, pod, url.searchParams.get("container") ?? "", url.searchParams.getAll("command"));
    if (r.stdout) ws.send(frame(1, r.stdout));
    if (r.stderr) ws.send(frame(2, r.stderr));
    ws.send(frame(3, JSON.stringify(exitStatus(r.code))));
  } catch (err) {
    ws.send(frame(3, JSON.stringify({ metadata: {}, status: "Failure", reason: "InternalError", message: (err as Error).message })));
  }
  ws.close();
}

async function serveForward(ws: WebSocket, connect: NonNullable<PodStreamHandlers["portForward"]>, ns: string, pod: string, port: number): Promise<void> {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16LE(port);
  ws.send(frame(0, portBytes));
  ws.send(frame(1, portBytes));
  let conn: Duplex;
  try {
    conn = await connect(ns, pod, port);
  } catch (err) {
    ws.send(frame(1, `error forwarding port ${port} to pod ${pod}: ${(err as Error).message}`));
    ws.close();
    return;
  }
  conn.on("data", (d: Buffer) => ws.send(frame(0, d)));
  conn.on("end", () => ws.close());
  conn.on("error", (err) => {
    ws.send(frame(1, `error forwarding port ${port} to pod ${pod}: ${err.message}`));
    ws.close();
  });
  ws.on("message", (data: Buffer) => {
    if (data[0] === 0) conn.write(data.subarray(1));
  });
  ws.on("close", () => conn.destroy());
}
