// The Gateway API's mesh (GAMMA) conformance cases for what the waypoint claims, through a real waypoint
// between two in-process ztunnels (mTLS, HBONE): each group is an upstream test's HTTPRoute (as YAML,
// translated by the control plane's own translation) and its request/expectation table, named after
// the upstream test in kubernetes-sigs/gateway-api conformance/tests/mesh (echo-v1 and echo-v2 as
// there). Groups from the gateway suite that apply to a mesh route say so.
import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_TRANSLATE_OPTIONS, translateHttpRoutes, type HTTPRoute } from "./control-plane/index.ts";
import { inProcessMesh, inProcessWaypoint, type InProcessMesh } from "./testing/index.ts";
import { parseLocalConfig, StateStore, toResources } from "./proxy/index.ts";
import type { Waypoint } from "./waypoint/index.ts";

const NS = "gateway-conformance-mesh";
const WP = { hostname: `waypoint.${NS}.svc.cluster.local`, namespace: NS };
const svc = (name: string, vip: string, waypoint = false) =>
  `  - { name: ${name}, namespace: ${NS}, hostname: ${name}.${NS}.svc.cluster.local, vips: [${vip}], ports: { 80: 8080 }, appProtocols: { 80: http }${waypoint ? `, waypoint: ${JSON.stringify(WP)}` : ""} }`;
const BASE = `
workloads:
  - { uid: u-client, name: client, namespace: ${NS}, workloadIps: [127.0.5.10], serviceAccount: client, node: node-1 }
  - { uid: u-v1, name: echo-v1, namespace: ${NS}, workloadIps: [127.0.6.10], serviceAccount: echo, node: node-2, services: { "${NS}/echo.${NS}.svc.cluster.local": { 80: 8080 }, "${NS}/echo-v1.${NS}.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-v2, name: echo-v2, namespace: ${NS}, workloadIps: [127.0.6.11], serviceAccount: echo, node: node-2, services: { "${NS}/echo-v2.${NS}.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-wp, name: waypoint, namespace: ${NS}, workloadIps: [127.0.8.10], serviceAccount: waypoint, node: waypoint-node, services: { "${NS}/waypoint.${NS}.svc.cluster.local": { 15008: 15008 } } }
services:
${svc("echo", "127.0.7.10", true)}
${svc("echo-v1", "127.0.7.11")}
${svc("echo-v2", "127.0.7.12")}
  - { name: waypoint, namespace: ${NS}, hostname: waypoint.${NS}.svc.cluster.local, vips: [127.0.7.20], ports: { 15008: 15008 } }
`;

interface Case {
  path: string;
  headers?: Record<string, string>;
  /** Forwarded: which backend, and what it saw. */
  backend?: "echo-v1" | "echo-v2";
  seenPath?: string;
  seenHost?: string;
  seenHeaders?: Record<string, string>;
  absentHeaders?: string[];
  responseHeaders?: Record<string, string>;
  absentResponseHeaders?: string[];
  /** Answered by the waypoint. */
  status?: number;
  location?: string;
  body?: string;
}

const route = (name: string, rules: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${NS} }
spec:
  parentRefs: [{ group: "", kind: Service, name: echo, port: 80 }]
  rules:
${rules}`;
const redirect = (prefix: string, spec: string) => `    - matches: [{ path: { type: PathPrefix, value: ${prefix} } }]
      filters: [{ type: RequestRedirect, requestRedirect: ${spec} }]`;

const GROUPS: Array<{ upstream: string; yaml: string; cases: Case[] }> = [
  {
    upstream: "MeshHTTPRouteSimpleSameNamespace",
    yaml: route("mesh-simple", "    - backendRefs: [{ name: echo-v1, port: 80 }]"),
    cases: [{ path: "/", backend: "echo-v1" }],
  },
  {
    upstream: "MeshHTTPRouteMatching",
    yaml: route(
      "mesh-matching",
      `    - matches: [{ path: { type: PathPrefix, value: / } }, { headers: [{ name: version, value: one }] }]
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 } }, { headers: [{ name: version, value: two }] }]
      backendRefs: [{ name: echo-v2, port: 80 }]`,
    ),
    cases: [
      { path: "/", backend: "echo-v1" },
      { path: "/example", backend: "echo-v1" },
      { path: "/", headers: { Version: "one" }, backend: "echo-v1" },
      { path: "/v2", backend: "echo-v2" },
      { path: "/v2/example", backend: "echo-v2" },
      { path: "/", headers: { Version: "two" }, backend: "echo-v2" },
      { path: "/v2/", backend: "echo-v2" },
      { path: "/v2example", backend: "echo-v1" },
      { path: "/foo/v2/example", backend: "echo-v1" },
    ],
  },
  {
    upstream: "MeshHTTPRouteRequestHeaderModifier",
    yaml: route(
      "mesh-request-header-modifier",
      `    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }], add: [{ name: X-Header-Add, value: add-appends-values }], remove: [X-Header-Remove] } }]
      backendRefs: [{ name: echo-v1, port: 80 }]`,
    ),
    cases: [
      {
        path: "/",
        headers: { "X-Header-Set": "some-other-value", "X-Header-Add": "add-val", "X-Header-Remove": "val" },
        backend: "echo-v1",
        seenHeaders: { "x-header-set": "set-overwrites-values", "x-header-add": "add-val,add-appends-values" },
        absentHeaders: ["x-header-remove"],
      },
    ],
  },
  {
    upstream: "MeshHTTPRouteRewritePath",
    yaml: route(
      "mesh-rewrite-path",
      `    - matches: [{ path: { type: PathPrefix, value: /prefix/one } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /one } } }]
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /strip-prefix } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /full/one } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /one } } }]
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /full/rewrite-path-and-modify-headers } }]
      filters:
        - { type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /test } } }
        - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }], add: [{ name: X-Header-Add, value: header-val-1 }, { name: X-Header-Add-Append, value: header-val-2 }], remove: [X-Header-Remove] } }
      backendRefs: [{ name: echo-v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /prefix/rewrite-path-and-modify-headers } }]
      filters:
        - { type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /prefix } } }
        - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }], add: [{ name: X-Header-Add, value: header-val-1 }, { name: X-Header-Add-Append, value: header-val-2 }], remove: [X-Header-Remove] } }
      backendRefs: [{ name: echo-v1, port: 80 }]`,
    ),
    cases: [
      { path: "/prefix/one/two", backend: "echo-v1", seenPath: "/one/two" },
      { path: "/strip-prefix/three", backend: "echo-v1", seenPath: "/three" },
      { path: "/strip-prefix", backend: "echo-v1", seenPath: "/" },
      { path: "/full/one/two", backend: "echo-v1", seenPath: "/one" },
      ...["/full/rewrite-path-and-modify-headers/test", "/prefix/rewrite-path-and-modify-headers/one"].map((path, i) => ({
        path,
        headers: { "X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Set": "set-val" },
        backend: "echo-v1" as const,
        seenPath: i === 0 ? "/test" : "/prefix/one",
        seenHeaders: { "x-header-add": "header-val-1", "x-header-add-append": "append-val-1,header-val-2", "x-header-set": "set-overwrites-values" },
        absentHeaders: ["x-header-remove"],
      })),
    ],
  },
  {
    upstream: "MeshHTTPRouteRedirectHostAndStatus",
    yaml: route(
      "mesh-redirect-host-and-status",
      [
        redirect("/hostname-redirect", "{ hostname: example.org }"),
        redirect("/host-and-status", "{ hostname: example.org, statusCode: 301 }"),
        redirect("/host-and-temporary", "{ hostname: example.org, statusCode: 307 }"),
        redirect("/host-and-permanent", "{ hostname: example.org, statusCode: 308 }"),
        redirect("/host-and-see-other", "{ hostname: example.org, statusCode: 303 }"),
      ].join("\n"),
    ),
    cases: [
      { path: "/hostname-redirect", status: 302, location: "http://example.org/hostname-redirect" },
      { path: "/host-and-status", status: 301, location: "http://example.org/host-and-status" },
      { path: "/host-and-temporary", status: 307, location: "http://example.org/host-and-temporary" },
      { path: "/host-and-permanent", status: 308, location: "http://example.org/host-and-permanent" },
      { path: "/host-and-see-other", status: 303, location: "http://example.org/host-and-see-other" },
    ],
  },
  {
    upstream: "MeshHTTPRouteRedirectPath",
    yaml: route(
      "mesh-redirect-path",
      [
        redirect("/original-prefix", "{ path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix } }"),
        redirect("/full", "{ path: { type: ReplaceFullPath, replaceFullPath: /full-path-replacement } }"),
        redirect("/path-and-host", "{ hostname: example.org, path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix } }"),
        redirect("/path-and-status", "{ path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix }, statusCode: 301 }"),
        redirect("/full-path-and-host", "{ hostname: example.org, path: { type: ReplaceFullPath, replaceFullPath: /replacement-full } }"),
        redirect("/full-path-and-status", "{ path: { type: ReplaceFullPath, replaceFullPath: /replacement-full }, statusCode: 301 }"),
      ].join("\n"),
    ),
    cases: [
      { path: "/original-prefix/lemon", status: 302, location: "http://echo/replacement-prefix/lemon" },
      { path: "/full/path/original", status: 302, location: "http://echo/full-path-replacement" },
      { path: "/path-and-host", status: 302, location: "http://example.org/replacement-prefix" },
      { path: "/path-and-status", status: 301, location: "http://echo/replacement-prefix" },
      { path: "/full-path-and-host", status: 302, location: "http://example.org/replacement-full" },
      { path: "/full-path-and-status", status: 301, location: "http://echo/replacement-full" },
    ],
  },
  {
    upstream: "MeshHTTPRouteRedirectPort",
    yaml: route(
      "mesh-redirect-port",
      [
        redirect("/port", "{ port: 8083 }"),
        redirect("/port-and-host", "{ hostname: example.org, port: 8083 }"),
        redirect("/port-and-status", "{ port: 8083, statusCode: 301 }"),
        redirect("/port-and-host-and-status", "{ port: 8083, hostname: example.org, statusCode: 302 }"),
      ].join("\n"),
    ),
    cases: [
      { path: "/port", status: 302, location: "http://echo:8083/port" },
      { path: "/port-and-host", status: 302, location: "http://example.org:8083/port-and-host" },
      { path: "/port-and-status", status: 301, location: "http://echo:8083/port-and-status" },
      { path: "/port-and-host-and-status", status: 302, location: "http://example.org:8083/port-and-host-and-status" },
    ],
  },
  {
    upstream: "MeshHTTPRouteSchemeRedirect",
    yaml: route(
      "mesh-redirect-scheme",
      [
        redirect("/scheme", '{ scheme: "https" }'),
        redirect("/scheme-and-host", '{ hostname: example.org, scheme: "https" }'),
        redirect("/scheme-and-status", '{ scheme: "https", statusCode: 301 }'),
        redirect("/scheme-and-host-and-status", '{ scheme: "https", statusCode: 302, hostname: example.org }'),
      ].join("\n"),
    ),
    cases: [
      { path: "/scheme", status: 302, location: "https://echo/scheme" },
      { path: "/scheme-and-host", status: 302, location: "https://example.org/scheme-and-host" },
      { path: "/scheme-and-status", status: 301, location: "https://echo/scheme-and-status" },
      { path: "/scheme-and-host-and-status", status: 302, location: "https://example.org/scheme-and-host-and-status" },
    ],
  },
  {
    upstream: "HTTPRouteResponseHeaderModifier (gateway suite; the same filter on a mesh route)",
    yaml: route(
      "mesh-response-header-modifier",
      `    - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Header-Set, value: set-overwrites-values }], add: [{ name: X-Header-Add, value: add-appends-values }], remove: [X-Header-Remove] } }]
      backendRefs: [{ name: echo-v1, port: 80 }]`,
    ),
    cases: [
      {
        path: "/",
        backend: "echo-v1",
        responseHeaders: { "x-header-set": "set-overwrites-values", "x-header-add": "original-add,add-appends-values" },
        absentResponseHeaders: ["x-header-remove"],
      },
    ],
  },
  {
    upstream: "HTTPRouteHostnameRewrite (gateway suite; URLRewrite hostname on a mesh route)",
    yaml: route(
      "mesh-rewrite-host",
      `    - filters: [{ type: URLRewrite, urlRewrite: { hostname: one.example.org } }]
      backendRefs: [{ name: echo-v1, port: 80 }]`,
    ),
    cases: [{ path: "/", backend: "echo-v1", seenHost: "one.example.org", seenPath: "/" }],
  },
  {
    upstream: "HTTPRouteRequestTimeout (gateway suite; timeouts.request on a mesh route)",
    yaml: route(
      "mesh-request-timeout",
      `    - matches: [{ path: { type: PathPrefix, value: /slow } }]
      timeouts: { request: 300ms }
      backendRefs: [{ name: echo-v1, port: 80 }]
    - backendRefs: [{ name: echo-v1, port: 80 }]`,
    ),
    cases: [
      // The app answers /slow after 2 s: the waypoint gives up at 300 ms with Envoy's 504.
      { path: "/slow", status: 504, body: "upstream request timeout" },
      { path: "/fast", backend: "echo-v1" },
    ],
  },
];

let mesh: InProcessMesh;
let waypoint: Waypoint;
const store = new StateStore();
const base = toResources(parseLocalConfig(BASE));
const apps: http.Server[] = [];

async function send(c: Case): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const socket = await mesh.dial("127.0.5.10", { ip: "127.0.7.10", port: 80 });
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket as net.Socket, path: c.path, headers: { host: "echo", ...c.headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  for (const [ip, name] of [
    ["127.0.6.10", "echo-v1"],
    ["127.0.6.11", "echo-v2"],
  ] as const) {
    const app = http.createServer(async (req, res) => {
      req.resume();
      if (req.url?.startsWith("/slow")) await new Promise((r) => setTimeout(r, 2000));
      if (res.destroyed) return;
      const body = JSON.stringify({ backend: name, path: req.url, host: req.headers.host, headers: req.headers });
      res
        .writeHead(200, { "content-type": "application/json", "x-header-set": "original", "x-header-add": "original-add", "x-header-remove": "gone" })
        .end(body);
    });
    await new Promise<void>((r) => app.listen(8080, ip, () => r()));
    apps.push(app);
  }
  mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config: BASE });
  store.replace(base);
  waypoint = await inProcessWaypoint(mesh, { host: "127.0.8.10", namespace: NS, state: store });
});

afterAll(async () => {
  await waypoint?.stop();
  await mesh?.close();
  await Promise.all(apps.map((a) => new Promise((r) => a.close(r))));
});

describe("GAMMA conformance through a real waypoint", () => {
  for (const g of GROUPS) {
    it(g.upstream, async () => {
      const { routes, notes } = translateHttpRoutes([parse(g.yaml) as HTTPRoute], DEFAULT_TRANSLATE_OPTIONS);
      expect(notes, "the route is accepted whole").toEqual([]);
      store.replace({ ...base, routes });
      for (const c of g.cases) {
        const r = await send(c);
        const at = `${c.path} ${JSON.stringify(c.headers ?? {})}`;
        if (c.status) {
          expect(r.status, at).toBe(c.status);
          if (c.location) expect(r.headers.location, at).toBe(c.location);
          if (c.body) expect(r.body, at).toBe(c.body);
          continue;
        }
        expect(r.status, `${at}: ${r.body}`).toBe(200);
        const seen = JSON.parse(r.body) as { backend: string; path: string; host: string; headers: Record<string, string> };
        expect(seen.backend, at).toBe(c.backend);
        if (c.seenPath) expect(seen.path, at).toBe(c.seenPath);
        if (c.seenHost) expect(seen.host, at).toBe(c.seenHost);
        for (const [k, v] of Object.entries(c.seenHeaders ?? {})) expect(seen.headers[k], `${at} ${k}`).toBe(v);
        for (const k of c.absentHeaders ?? []) expect(seen.headers[k], `${at} ${k}`).toBeUndefined();
        for (const [k, v] of Object.entries(c.responseHeaders ?? {})) expect(r.headers[k], `${at} response ${k}`).toBe(v);
        for (const k of c.absentResponseHeaders ?? []) expect(r.headers[k], `${at} response ${k}`).toBeUndefined();
      }
    });
  }
});
