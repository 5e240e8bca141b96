// The proxy's view of the network, injected so in-process tests can stand in for netfilter capture.
import net from "node:net";
import { formatAddr, normalizeIp, type SockAddr } from "../../shared/index.ts";
import { ErrorCode, MeshError } from "../../shared/index.ts";
import { originalDst } from "./orig-dst.ts";

export interface Network {
  /** Where an accepted (captured) connection was headed before redirection. */
  originalDst(socket: net.Socket): Promise<SockAddr>;
  /**
   * Opens a TCP connection; rejects with AL_ERR_UPSTREAM_CONNECT or AL_ERR_UPSTREAM_TIMEOUT.
   * `halfOpen` keeps a received FIN from ending our side: right for relayed application bytes,
   * wrong for a TLS transport, which must close when its peer does.
   */
  connect(target: SockAddr, timeoutMs: number, halfOpen?: boolean): Promise<net.Socket>;
  /** The address HBONE for a pod is sent to: the pod's IP on the HBONE port, captured by its node. */
  hboneTarget(podIp: string): SockAddr;
}

export function connectTcp(target: SockAddr, timeoutMs: number, opts: { localAddress?: string; halfOpen?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: target.ip,
      port: target.port,
      allowHalfOpen: opts.halfOpen ?? true,
      noDelay: true,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new MeshError(
          ErrorCode.UpstreamTimeout,
          target.port === 15008
            ? `connection to ${formatAddr(target)} timed out, maybe a NetworkPolicy is blocking HBONE port 15008`
            : `connection to ${formatAddr(target)} timed out after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new MeshError(ErrorCode.UpstreamConnect, `connection to ${formatAddr(target)} failed`, { cause: err }));
    });
  });
}

/** The real thing: netfilter REDIRECT for capture, plain TCP for dialing. */
export class KernelNetwork implements Network {
  private readonly hbonePort: number;

  constructor(hbonePort = 15008) {
    this.hbonePort = hbonePort;
  }

  async originalDst(socket: net.Socket): Promise<SockAddr> {
    const orig = originalDst(socket);
    if (orig) return orig;
    // Not redirected (someone dialed the listener directly): the local address is the destination.
    if (!socket.localAddress || socket.localPort === undefined) {
      throw new MeshError(ErrorCode.OriginalDst, "connection closed before its destination could be read");
    }
    return { ip: normalizeIp(socket.localAddress), port: socket.localPort };
  }

  connect(target: SockAddr, timeoutMs: number, halfOpen = true): Promise<net.Socket> {
    return connectTcp(target, timeoutMs, { halfOpen });
  }

  hboneTarget(podIp: string): SockAddr {
    return { ip: podIp, port: this.hbonePort };
  }
}
