#!/usr/bin/env node
// The demo's echo pod: the gRPC Echo sample over cleartext HTTP/2 (grpc-echo.ts) and a WebSocket echo
// ("echo <path>: <message>" for every message), each on its own port.
//   node mesh/testing/echo-app.ts --name echo --grpc-port 9090 --ws-port 8080
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { startGrpcEcho } from "./grpc-echo.ts";

const { values } = parseArgs({
  options: {
    name: { type: "string", default: "echo" },
    host: { type: "string", default: "0.0.0.0" },
    "grpc-port": { type: "string", default: "9090" },
    "ws-port": { type: "string", default: "8080" },
  },
});
const grpc = await startGrpcEcho({ host: values.host, port: Number(values["grpc-port"]), name: values.name });
// 64 KiB messages at most: a client cannot make the sample hold more.
const ws = new WebSocketServer({ host: values.host, port: Number(values["ws-port"]), maxPayload: 64 * 1024 });
ws.on("connection", (socket, req) => socket.on("message", (m) => socket.send(`echo ${req.url}: ${String(m)}`)));
await new Promise<void>((r) => ws.once("listening", () => r()));
process.stdout.write(`gRPC on ${values.host}:${values["grpc-port"]}, WebSocket on ${values.host}:${values["ws-port"]}\n`);
const stop = () => {
  ws.close();
  void grpc.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
