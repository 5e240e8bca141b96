// An in-process stand-in for netfilter capture, for tests that run several ztunnels on loopback.
// Pods get 127.x.y.z addresses (Linux routes all of 127/8 to lo), so source addresses still identify
// workloads; the original destination of each "captured" connection is registered by whoever dials it.
import net from "node:net";
import { normalizeIp, type SockAddr } from "../shared/index.ts";
import { ErrorCode, MeshError } from "../shared/index.ts";
import { connectTcp, type Network } from "../proxy/index.ts";

interface Pending {
  addr?: SockAddr;
  waiters: Array<(a: SockAddr) => void>;
}

export class LoopbackNetwork implements Network {
  private readonly captured = new Map<string, Pending>();
  /** Pod IP -> the HBONE listener of the ztunnel on that pod's node. */
  readonly hboneListeners = new Map<string, SockAddr>();

  private entry(key: string): Pending {
    let e = this.captured.get(key);
    if (!e) {
      e = { waiters: [] };
      this.captured.set(key, e);
    }
    return e;
  }

  /** Records that the connection from `client` (its local address) was headed for `dst`. */
  register(client: net.Socket, dst: SockAddr): void {
    const key = `${normalizeIp(client.localAddress ?? "")}:${client.localPort}`;
    const e = this.entry(key);
    e.addr = dst;
    for (const w of e.waiters.splice(0)) w(dst);
    client.once("close", () => this.captured.delete(key));
  }

  originalDst(socket: net.Socket): Promise<SockAddr> {
    const key = `${normalizeIp(socket.remoteAddress ?? "")}:${socket.remotePort}`;
    const e = this.entry(key);
    if (e.addr) return Promise.resolve(e.addr);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.captured.delete(key);
        // Not registered: the peer dialed the listener directly, as in the kernel when nothing was NATed.
        if (socket.localAddress) resolve({ ip: normalizeIp(socket.localAddress), port: socket.localPort! });
        else reject(new MeshError(ErrorCode.OriginalDst, `no original destination registered for ${key}`));
      }, 300);
      e.waiters.push((a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
  }

  async connect(target: SockAddr, timeoutMs: number, halfOpen = true): Promise<net.Socket> {
    const listener = target.port === 15008 ? this.hboneListeners.get(target.ip) : undefined;
    if (!listener) return connectTcp(target, timeoutMs, { halfOpen });
    const socket = await connectTcp(listener, timeoutMs, { halfOpen });
    this.register(socket, target);
    return socket;
  }

  hboneTarget(podIp: string): SockAddr {
    return { ip: podIp, port: 15008 };
  }

  /** Dials `via` (a ztunnel listener) from `srcIp` as if the kernel had redirected a connection to `dst`. */
  async dialCaptured(srcIp: string, via: SockAddr, dst: SockAddr): Promise<net.Socket> {
    const socket = await connectTcp(via, 2000, { localAddress: srcIp, halfOpen: false });
    this.register(socket, dst);
    return socket;
  }
}
