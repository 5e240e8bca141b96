// HTTP/2 (h2c, prior knowledge) sessions to endpoints whose port declares HTTP/2 or gRPC, or that an
// HTTP/2 client reaches on an undeclared port. One session per endpoint (and transport and identity,
// upstreamKey), multiplexing every request to it, over the same connections HTTP/1.1 uses (an HBONE
// stream to a mesh endpoint, TCP otherwise). A session that closes, fails or is told GOAWAY is
// forgotten and the next request opens another; an idle one closes after a minute.
import http2 from "node:http2";
import { formatAddr } from "../shared/index.ts";
import { upstreamKey, type Upstreams, type UpstreamTarget } from "./upstream.ts";

const IDLE_MS = 60_000;

export class H2Upstreams {
  private readonly upstreams: Upstreams;
  private readonly sessions = new Map<string, Promise<http2.ClientHttp2Session>>();

  constructor(upstreams: Upstreams) {
    this.upstreams = upstreams;
  }

  /**
   * The endpoint's session, opened on first use (or when the one held has closed since: its "close"
   * event may not have been seen yet); rejects when the connection cannot be made.
   */
  async session(target: UpstreamTarget): Promise<http2.ClientHttp2Session> {
    const key = upstreamKey(target);
    const held = this.sessions.get(key);
    if (held) {
      const s = await held.catch(() => undefined);
      if (s && !s.closed && !s.destroyed) return s;
      if (this.sessions.get(key) === held) this.sessions.delete(key);
    }
    let opening = this.sessions.get(key);
    if (!opening) {
      const p = this.open(target, key);
      this.sessions.set(key, p);
      p.catch(() => this.sessions.get(key) === p && this.sessions.delete(key));
      opening = p;
    }
    return opening;
  }

  private async open(target: UpstreamTarget, key: string): Promise<http2.ClientHttp2Session> {
    const socket = await this.upstreams.connect(target);
    const authority = formatAddr({ ip: target.workload.ips[0]!, port: target.port });
    const session = http2.connect(`http://${authority}`, { createConnection: () => socket as never, maxSessionMemory: 16 });
    const mine = this.sessions.get(key);
    const forget = () => {
      if (this.sessions.get(key) === mine) this.sessions.delete(key);
    };
    session.on("close", forget);
    session.on("goaway", forget);
    // Failures reach the streams in flight; the session itself only needs forgetting.
    session.on("error", forget);
    session.setTimeout(IDLE_MS, () => session.close());
    socket.once("close", () => session.destroy());
    return session;
  }

  /** How many sessions are open or opening (tests check they do not accumulate). */
  get size(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.destroy()).catch(() => undefined)));
  }
}
