import { describe, expect, it } from "vitest";
import { parseLocalConfig } from "../../proxy/index.ts";
import { orderRules, pathMatches, routeRequest, type RequestView } from "./route.ts";

const cfg = parseLocalConfig(`
httpRoutes:
  - name: reviews
    namespace: demo
    parents: [demo/reviews.demo.svc.cluster.local]
    rules:
      - matches: [{ headers: [{ name: End-User, value: jason }] }]
        backends: [{ service: demo/reviews-v2.demo.svc.cluster.local, port: 9080 }]
      - matches: [{ path: { type: PathPrefix, value: /api } }]
        backends: [{ service: demo/reviews-api.demo.svc.cluster.local, port: 9080 }]
        requestHeaders: { set: { x-route: api } }
      - matches: [{ path: { type: Exact, value: /api/health } }]
        backends: [{ service: demo/health.demo.svc.cluster.local, port: 8080 }]
      - matches: [{ path: { type: PathPrefix, value: /api }, method: POST }]
        backends: [{ service: demo/writer.demo.svc.cluster.local, port: 9080 }]
      - matches: [{ path: { type: PathPrefix, value: /split } }]
        backends:
          - { service: demo/v1.demo.svc.cluster.local, port: 80, weight: 90 }
          - { service: demo/v2.demo.svc.cluster.local, port: 80, weight: 10 }
      - matches: [{ path: { type: PathPrefix, value: /zero } }]
        backends: [{ service: demo/v1.demo.svc.cluster.local, port: 80, weight: 0 }]
      - backends: [{ service: demo/catch-all.demo.svc.cluster.local, port: 80 }]
`);
const ordered = orderRules(cfg.routes ?? []);
const fallback = { service: "demo/reviews.demo.svc.cluster.local", port: 9080, weight: 1 };
const req = (method: string, path: string, headers: Record<string, string> = {}): RequestView => ({ method, path, headers });

describe("HTTPRoute matching", () => {
  it("parses without rejections", () => expect(cfg.rejected).toEqual([]));

  const cases: Array<[string, RequestView, string | { kind: string }]> = [
    ["an exact path beats a prefix", req("GET", "/api/health"), "demo/health.demo.svc.cluster.local"],
    ["a method match beats the same prefix without one", req("POST", "/api/items"), "demo/writer.demo.svc.cluster.local"],
    [
      "the longest prefix wins over a header-only rule (implicit /)",
      req("GET", "/api/items", { "end-user": "jason" }),
      "demo/reviews-api.demo.svc.cluster.local",
    ],
    ["a header match routes when no path rule is more specific", req("GET", "/", { "end-user": "jason" }), "demo/reviews-v2.demo.svc.cluster.local"],
    ["prefixes match whole path elements only", req("GET", "/apix"), "demo/catch-all.demo.svc.cluster.local"],
    ["a rule without matches catches the rest", req("GET", "/other"), "demo/catch-all.demo.svc.cluster.local"],
    ["all weights zero: no-backend (500)", req("GET", "/zero"), { kind: "no-backend" }],
  ];
  for (const [name, r, want] of cases) {
    it(name, () => {
      const d = routeRequest(ordered, fallback, r, () => 0);
      if (typeof want === "string") expect(d).toMatchObject({ kind: "backend", backend: { service: want } });
      else expect(d).toMatchObject(want);
    });
  }

  it("routes attached but nothing matches: no-route (404)", () => {
    const only = orderRules((cfg.routes ?? []).map((r) => ({ ...r, rules: r.rules.slice(0, 2) })));
    expect(routeRequest(only, fallback, req("GET", "/other"), () => 0)).toMatchObject({ kind: "no-route" });
  });

  it("weights split traffic by the injected pick", () => {
    const at = (n: number) => routeRequest(ordered, fallback, req("GET", "/split/x"), () => n);
    expect(at(0)).toMatchObject({ backend: { service: "demo/v1.demo.svc.cluster.local" } });
    expect(at(89)).toMatchObject({ backend: { service: "demo/v1.demo.svc.cluster.local" } });
    expect(at(90)).toMatchObject({ backend: { service: "demo/v2.demo.svc.cluster.local" } });
  });

  it("carries the rule's header modifier", () => {
    expect(routeRequest(ordered, fallback, req("GET", "/api"), () => 0)).toMatchObject({ requestHeaders: { set: { "x-route": "api" } } });
  });

  it("without routes the service itself is the backend", () => {
    expect(routeRequest([], fallback, req("GET", "/anything"), () => 0)).toEqual({ kind: "backend", backend: fallback });
  });

  it("PathPrefix / matches everything; a trailing slash in the value is ignored", () => {
    expect(pathMatches({ type: "PathPrefix", value: "/" }, "/x")).toBe(true);
    expect(pathMatches({ type: "PathPrefix", value: "/a/" }, "/a")).toBe(true);
    expect(pathMatches({ type: "PathPrefix", value: "/a/" }, "/ab")).toBe(false);
  });

  it("rejects bad routes by name with every problem, keeping the good ones", () => {
    const bad = parseLocalConfig(`
httpRoutes:
  - { name: ok, namespace: demo, parents: [demo/a], rules: [{ backends: [{ service: demo/a, port: 80 }] }] }
  - { name: bad, namespace: demo, parents: [nope], rules: [{ matches: [{ path: { type: Regex, value: x } }], backends: [] }] }
`);
    expect(bad.routes?.map((r) => r.name)).toEqual(["ok"]);
    expect(bad.rejected).toHaveLength(1);
    expect(bad.rejected[0]).toMatchObject({ kind: "route", name: "demo/bad" });
    expect(bad.rejected[0]!.reason).toMatch(/parents\.0.*namespace\/hostname/);
    expect(bad.rejected[0]!.reason).toMatch(/path\.type/);
    expect(bad.rejected[0]!.reason).toMatch(/backends/);
  });
});
