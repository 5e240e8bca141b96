// Which HTTP version a tunnel speaks, from its first bytes: HTTP/2 with prior knowledge opens with the
// 24-byte connection preface (RFC 9113 3.4), which no HTTP/1.1 request line can start with. The bytes
// read are put back, so the chosen server reads the stream from its start.
import type { Duplex } from "node:stream";

export const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** The verdict on the bytes seen so far: undefined while they are still a prefix of the preface. */
export function prefaceVerdict(seen: Uint8Array): "HTTP/2" | "HTTP/1.1" | undefined {
  const n = Math.min(seen.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) if (seen[i] !== HTTP2_PREFACE[i]) return "HTTP/1.1";
  return n === HTTP2_PREFACE.length ? "HTTP/2" : undefined;
}

/**
 * Reads until the verdict is known and unshifts what it read. Rejects when the stream ends, fails or
 * stays undecided for `timeoutMs` (a peer holding a tunnel open with a partial preface).
 */
export function sniffHttp2(stream: Duplex, timeoutMs: number): Promise<"HTTP/2" | "HTTP/1.1"> {
  return new Promise((resolve, reject) => {
    let seen: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
    };
    const onEnd = () => {
      // Still undecided: nothing, or part of a preface, was sent. There is no request to answer.
      cleanup();
      reject(new Error("the tunnel closed before its first request"));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
        const verdict = prefaceVerdict(seen);
        if (verdict) {
          cleanup();
          stream.unshift(seen);
          return resolve(verdict);
        }
      }
    };
    const timer = setTimeout(() => onError(new Error("no HTTP request line or preface in time")), timeoutMs);
    stream.on("readable", onReadable);
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    stream.on("error", onError);
  });
}
