// The original destination of a connection that netfilter redirected to us (REDIRECT/DNAT), read with
// getsockopt(SOL_IP, SO_ORIGINAL_DST) through koffi: no native build step. IPv4 only, as is our capture.
import net from "node:net";
import koffi from "koffi";
import type { SockAddr } from "../../shared/index.ts";
import { ErrorCode, MeshError } from "../../shared/index.ts";

const SOL_IP = 0;
const SO_ORIGINAL_DST = 80;
const SOCKADDR_IN_LEN = 16;

let getsockopt: ((fd: number, level: number, name: number, buf: Buffer, len: number[]) => number) | undefined;
let errnoOf: (() => number) | undefined;

function load(): NonNullable<typeof getsockopt> {
  if (!getsockopt) {
    const libc = koffi.load("libc.so.6");
    getsockopt = libc.func("int getsockopt(int fd, int level, int optname, _Out_ uint8_t *optval, _Inout_ uint32_t *optlen)");
    errnoOf = () => koffi.errno();
  }
  return getsockopt!;
}

/** The kernel file descriptor behind a Node socket (Linux TCP handles expose it). */
export function socketFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    throw new MeshError(ErrorCode.OriginalDst, "socket has no file descriptor (closed, or not a TCP socket)");
  }
  return fd;
}

/**
 * Returns the pre-NAT destination, or undefined when the connection was not redirected
 * (ENOENT: no conntrack NAT entry), in which case the local address is the destination.
 */
export function originalDst(socket: net.Socket): SockAddr | undefined {
  const call = load();
  const buf = Buffer.alloc(SOCKADDR_IN_LEN);
  const len = [SOCKADDR_IN_LEN];
  if (call(socketFd(socket), SOL_IP, SO_ORIGINAL_DST, buf, len) !== 0) {
    const errno = errnoOf!();
    if (errno === 2) return undefined; // ENOENT
    throw new MeshError(ErrorCode.OriginalDst, `getsockopt(SO_ORIGINAL_DST) failed with errno ${errno}`);
  }
  const port = buf.readUInt16BE(2);
  const ip = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  return { ip, port };
}
