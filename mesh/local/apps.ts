// Applications that run inside pods: commands and the files they need.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_BIN } from "./cluster.ts";

const HTTP_APP = fileURLToPath(new URL("../testing/http-app.ts", import.meta.url));
const ECHO_APP = fileURLToPath(new URL("../testing/echo-app.ts", import.meta.url));
/** The echo pod's client, run inside a pod: `node ECHO_CALL grpc http://echo:9090 hi`, `... ws ws://echo:8080/chat hi`. */
export const ECHO_CALL = fileURLToPath(new URL("../testing/echo-call.ts", import.meta.url));

export interface AppCommand {
  cmd: string;
  args: string[];
  /** Directories the application writes: given to the pod's user. */
  ownedDirs?: string[];
}

/** Our small Node HTTP app (names itself; ?size=N answers N bytes). */
export function nodeHttpApp(name: string, port = 8080): AppCommand {
  return { cmd: NODE_BIN, args: [HTTP_APP, "--port", String(port), "--name", name] };
}

/** The gRPC Echo sample on 9090 and a WebSocket echo on 8080 (mesh/testing/echo-app.ts). */
export function echoApp(name: string): AppCommand {
  return { cmd: NODE_BIN, args: [ECHO_APP, "--name", name, "--grpc-port", "9090", "--ws-port", "8080"] };
}

/**
 * nginx answering every request with a fixed body: fast enough that benchmarks measure the mesh,
 * not the application. All of its files live under `dir`.
 */
export async function nginxApp(dir: string, port: number, bodyBytes: number): Promise<AppCommand> {
  await mkdir(join(dir, "tmp"), { recursive: true });
  const body = "a".repeat(bodyBytes);
  const conf = [
    "daemon off;",
    "worker_processes 1;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} warn;`,
    "events { worker_connections 4096; }",
    "http {",
    "  access_log off;",
    `  client_body_temp_path ${join(dir, "tmp")};`,
    `  proxy_temp_path ${join(dir, "tmp")};`,
    `  fastcgi_temp_path ${join(dir, "tmp")};`,
    `  uwsgi_temp_path ${join(dir, "tmp")};`,
    `  scgi_temp_path ${join(dir, "tmp")};`,
    "  keepalive_requests 1000000;",
    "  keepalive_timeout 120s;",
    "  server {",
    `    listen ${port};`,
    "    default_type text/plain;",
    `    location / { return 200 "${body}"; }`,
    "  }",
    "}",
    "",
  ].join("\n");
  const path = join(dir, "nginx.conf");
  await writeFile(path, conf);
  // -e: the error log from the start (before the config is read), in the pod's directory, not /var/log.
  return { cmd: "nginx", args: ["-p", dir, "-e", join(dir, "error.log"), "-c", path], ownedDirs: [dir] };
}
