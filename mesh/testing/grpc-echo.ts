// The gRPC sample (ambientlab.v1.EchoService, mesh/api/proto/ambientlab/v1/echo.proto) served over
// cleartext HTTP/2 with connect-node's gRPC handler: what tests and the demo call through the waypoint.
// Each reply names the server, so a test sees which endpoint answered.
import http2 from "node:http2";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { EchoService } from "../api/index.ts";

function routes(name: string) {
  return (router: ConnectRouter) =>
    router.service(EchoService, {
      echo(req) {
        if (req.failWith) throw new ConnectError(req.message, req.failWith as Code);
        return { message: req.message, servedBy: name };
      },
      async *echoStream(req) {
        // At most 1000 replies: a client cannot make the sample stream forever.
        for (let i = 0; i < Math.min(req.count, 1000); i++) yield { message: req.message, servedBy: name, index: i };
        if (req.failWith) throw new ConnectError(req.message, req.failWith as Code);
      },
      async *echoChat(reqs) {
        let i = 0;
        for await (const r of reqs) yield { message: r.message, servedBy: name, index: i++ };
      },
    });
}

/** A cleartext HTTP/2 server answering EchoService over gRPC (and Connect), listening on host:port. */
export async function startGrpcEcho(opts: { host: string; port: number; name: string }): Promise<{ server: http2.Http2Server; close(): Promise<void> }> {
  const server = http2.createServer(connectNodeAdapter({ routes: routes(opts.name), grpc: true, connect: true, grpcWeb: false }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    server,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
