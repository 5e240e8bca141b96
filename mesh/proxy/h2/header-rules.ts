// RFC 9113 8.2-8.3: what makes an HTTP/2 header list malformed (a stream error, PROTOCOL_ERROR): names
// not in lowercase, unknown or repeated pseudo-headers or ones after a regular header, connection-
// specific headers, and the pseudo-headers a request or a response must (not) have. A CONNECT request
// (RFC 9113 8.5) has :method and :authority and no :scheme or :path.
import type { HeaderList } from "./hpack.ts";

export class MalformedHeaders extends Error {
  override name = "MalformedHeaders";
}

const REQUEST_PSEUDO = new Set([":method", ":scheme", ":authority", ":path", ":protocol"]);
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

export function checkHeaders(headers: HeaderList, kind: "request" | "response"): void {
  const pseudo = new Map<string, string>();
  let regular = false;
  for (const [name, value] of headers) {
    if (name.length === 0) throw new MalformedHeaders("empty header name");
    if (/[A-Z]/.test(name)) throw new MalformedHeaders(`header name ${name} is not lowercase`);
    if (/[\0\r\n]/.test(value)) throw new MalformedHeaders(`header ${name} holds NUL, CR or LF`);
    if (/^[ \t]|[ \t]$/.test(value)) throw new MalformedHeaders(`header ${name} starts or ends with whitespace`);
    if (name.startsWith(":")) {
      if (regular) throw new MalformedHeaders(`pseudo-header ${name} after a regular header`);
      const known = kind === "request" ? REQUEST_PSEUDO.has(name) : name === ":status";
      if (!known) throw new MalformedHeaders(`pseudo-header ${name} is not allowed in a ${kind}`);
      if (pseudo.has(name)) throw new MalformedHeaders(`pseudo-header ${name} repeated`);
      pseudo.set(name, value);
      continue;
    }
    regular = true;
    if (CONNECTION_SPECIFIC.has(name)) throw new MalformedHeaders(`connection-specific header ${name}`);
    if (name === "te" && value !== "trailers") throw new MalformedHeaders("te other than trailers");
  }
  if (kind === "response") {
    if (!/^[1-5]\d\d$/.test(pseudo.get(":status") ?? "")) throw new MalformedHeaders("response without a valid :status");
    return;
  }
  const method = pseudo.get(":method");
  if (!method) throw new MalformedHeaders("request without :method");
  if (method === "CONNECT" && !pseudo.has(":protocol")) {
    if (!pseudo.get(":authority")) throw new MalformedHeaders("CONNECT without :authority");
    if (pseudo.has(":scheme") || pseudo.has(":path")) throw new MalformedHeaders("CONNECT with :scheme or :path");
    return;
  }
  if (!pseudo.get(":scheme") || !pseudo.get(":path")) throw new MalformedHeaders(`${method} without :scheme or :path`);
}
