// Binding a server and reading back where it is bound: shared by every listener's start()/address().
import type net from "node:net";
import type { SockAddr } from "./addr.ts";

/** Listens and resolves once bound; rejects with the bind error (EADDRINUSE, EACCES) instead of emitting it. */
export function listen(server: net.Server, at: SockAddr): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: at.ip, port: at.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export function boundAddress(server: net.Server): SockAddr {
  const a = server.address() as net.AddressInfo;
  return { ip: a.address, port: a.port };
}
