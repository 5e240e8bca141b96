// Pure: what HTTPRoute's URLRewrite and RequestRedirect make of a request's path, host and URL, with the
// Gateway API's rules (ReplacePrefixMatch replaces only the matched prefix, on path-element boundaries;
// a redirect keeps what it does not change, and leaves out a port that is its scheme's default).
import type { PathModifier, RequestRedirect } from "../../api/index.ts";

/** The path after a modifier. `matchedPrefix` is the rule's PathPrefix the request matched. */
export function modifyPath(path: string, m: PathModifier, matchedPrefix: string | undefined): string {
  if (m.type === "ReplaceFullPath") return m.value;
  const prefix = (matchedPrefix ?? "/").replace(/\/+$/, "");
  const rest = path.slice(prefix.length);
  const base = m.value.replace(/\/+$/, "");
  if (rest === "" || rest === "/") return base === "" ? "/" : `${base}${rest}`;
  return `${base}${rest}`;
}

/** Splits a Host header into name and port (IPv6 literals in brackets kept whole). */
export function splitHost(host: string): { name: string; port: number | undefined } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return { name: host, port: undefined };
  return { name: m[1]!, port: m[2] ? Number(m[2]) : undefined };
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** The Location of a redirect for a request to `host` + `url` (path and query) over http. */
export function redirectLocation(host: string, url: string, r: RequestRedirect, matchedPrefix: string | undefined): string {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q);
  const requested = splitHost(host);
  const scheme = r.scheme ?? "http";
  const name = r.hostname ?? requested.name;
  // No port given: a new scheme means its default port; otherwise the port the client used.
  const port = r.port ?? (r.scheme ? undefined : requested.port);
  const shownPort = port !== undefined && port !== DEFAULT_PORT[scheme] ? `:${port}` : "";
  const newPath = r.path ? modifyPath(path, r.path, matchedPrefix) : path;
  return `${scheme}://${name}${shownPort}${newPath}${query}`;
}
