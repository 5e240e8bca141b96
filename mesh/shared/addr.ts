// Socket addresses and CIDR helpers. IPv4 and IPv6 literals; ports are numbers.
import net from "node:net";
import { ErrorCode, MeshError } from "./errors.ts";

export interface SockAddr {
  ip: string;
  port: number;
}

export function formatAddr(a: SockAddr): string {
  return net.isIPv6(a.ip) ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

/** Parses `ip:port` or `[ip6]:port`; the port must be 1..65535 and the host an IP literal. */
export function parseAddr(s: string): SockAddr {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s) ?? /^([0-9.]+):(\d+)$/.exec(s);
  if (!m) throw new MeshError(ErrorCode.BadRequest, `"${s}" is not an ip:port address`);
  const ip = m[1]!;
  const port = Number(m[2]);
  if (net.isIP(ip) === 0) throw new MeshError(ErrorCode.BadRequest, `"${ip}" is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MeshError(ErrorCode.BadRequest, `port ${m[2]} in "${s}" is outside 1..65535`);
  }
  return { ip, port };
}

export function tryParseAddr(s: string): SockAddr | undefined {
  try {
    return parseAddr(s);
  } catch {
    return undefined;
  }
}

/** Strips the IPv4-mapped prefix Node reports on dual-stack sockets (::ffff:1.2.3.4). */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** Parses "a.b.c.d/n" or a bare IP (a host route). Throws a MeshError naming the bad value. */
export function parseCidr(s: string): { ip: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [ip, prefixText] = s.split("/");
  const family = net.isIP(ip ?? "");
  if (!ip || family === 0) throw new MeshError(ErrorCode.InvalidResource, `"${s}" is not an IP address or CIDR block`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new MeshError(ErrorCode.InvalidResource, `"${s}" has a prefix length outside 0..${max}`);
  }
  return { ip, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

/** A set of CIDR blocks; `contains` answers membership for one IP. */
export class CidrSet {
  private readonly list = new net.BlockList();
  readonly blocks: readonly string[];

  constructor(blocks: readonly string[]) {
    this.blocks = blocks;
    for (const b of blocks) {
      const c = parseCidr(b);
      this.list.addSubnet(c.ip, c.prefix, c.family);
    }
  }

  contains(ip: string): boolean {
    const n = normalizeIp(ip);
    const family = net.isIP(n);
    if (family === 0) return false;
    return this.list.check(n, family === 4 ? "ipv4" : "ipv6");
  }
}
