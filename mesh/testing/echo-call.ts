#!/usr/bin/env node
// A client for the echo pod, run inside a pod (the demo and e2e tests use it as they use curl):
//   node mesh/testing/echo-call.ts grpc http://echo:9090 <message> [--stream N] [--fail CODE]
//   node mesh/testing/echo-call.ts ws ws://echo:8080/chat <message>
// Prints one JSON line per reply; a failed call prints {"error": <gRPC code name>, "message": ...} and
// exits 1.
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WebSocket } from "ws";
import { toJson } from "@bufbuild/protobuf";
import { EchoResponseSchema, EchoService } from "../api/index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { stream: { type: "string" }, fail: { type: "string", default: "0" }, timeout: { type: "string", default: "5000" } },
});
const [mode, target, message = "hello"] = positionals;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const timeoutMs = Number(values.timeout);

async function grpc(): Promise<void> {
  const client = createClient(EchoService, createGrpcTransport({ baseUrl: target!, defaultTimeoutMs: timeoutMs }));
  try {
    if (values.stream) {
      for await (const r of client.echoStream({ message, count: Number(values.stream), failWith: Number(values.fail) })) out(toJson(EchoResponseSchema, r));
    } else out(toJson(EchoResponseSchema, await client.echo({ message, failWith: Number(values.fail) })));
  } catch (err) {
    const e = ConnectError.from(err);
    out({ error: Code[e.code], message: e.rawMessage });
    process.exitCode = 1;
  }
}

function ws(): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(target!, { handshakeTimeout: timeoutMs });
    const fail = (error: string) => {
      out({ error });
      process.exitCode = 1;
      resolve();
    };
    socket.once("open", () => socket.send(message));
    socket.once("message", (m) => {
      out({ message: String(m) });
      socket.close();
      resolve();
    });
    socket.once("unexpected-response", (_req, res) => fail(`HTTP ${res.statusCode}`));
    socket.once("error", (e) => fail(e.message));
  });
}

if ((mode !== "grpc" && mode !== "ws") || !target) {
  process.stderr.write("usage: echo-call.ts grpc <http://host:port> [message] [--stream N] [--fail CODE] | ws <ws://host:port/path> [message]\n");
  process.exit(2);
}
await (mode === "grpc" ? grpc() : ws());
