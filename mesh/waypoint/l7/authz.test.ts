import { describe, expect, it } from "vitest";
import { parseIdentity } from "../../shared/index.ts";
import { parseLocalConfig } from "../../proxy/index.ts";
import { authorizeRequest, policiesFor, type RequestFacts } from "./authz.ts";

const cfg = parseLocalConfig(`
l7Policies:
  - name: deny-delete
    namespace: demo
    action: Deny
    targets: [{ kind: Gateway, namespace: demo, name: waypoint }]
    rules: [{ to: [{ methods: [DELETE] }] }]
  - name: allow-sleep-get
    namespace: demo
    action: Allow
    targets: [{ kind: Service, namespace: demo, name: httpbin }]
    rules:
      - from: [{ principals: [cluster.local/ns/demo/sa/sleep] }]
        to: [{ methods: [GET], paths: [/get, /status/*], notPaths: [/status/500] }]
  - name: other
    namespace: demo
    action: Deny
    targets: [{ kind: Service, namespace: demo, name: other }]
    rules: [{}]
  - name: dry
    namespace: demo
    action: Deny
    dryRun: true
    targets: [{ kind: Gateway, namespace: demo, name: waypoint }]
    rules: [{}]
`);
const gw = { namespace: "demo", name: "waypoint" };
const sleep = parseIdentity("spiffe://cluster.local/ns/demo/sa/sleep");
const other = parseIdentity("spiffe://cluster.local/ns/prod/sa/client");
const facts = (method: string, path: string, id = sleep): RequestFacts => ({ srcIdentity: id, method, path, port: 8000 });

describe("L7 authorization", () => {
  it("parses without rejections", () => expect(cfg.rejected).toEqual([]));

  const httpbin = policiesFor(cfg.l7Policies ?? [], gw, { namespace: "demo", name: "httpbin" });
  it("selects policies targeting the waypoint or the destination service only", () => {
    expect(httpbin.map((p) => p.name).sort()).toEqual(["allow-sleep-get", "deny-delete", "dry"]);
  });

  const cases: Array<[string, RequestFacts, boolean]> = [
    ["ALLOW matches principal, method and exact path", facts("GET", "/get"), true],
    ["ALLOW path prefix with *", facts("get", "/status/200"), true],
    ["notPaths excludes", facts("GET", "/status/500"), false],
    ["other method not allowed", facts("POST", "/get"), false],
    ["other principal not allowed", facts("GET", "/get", other), false],
    ["DENY wins over ALLOW", facts("DELETE", "/get"), false],
  ];
  for (const [name, f, allowed] of cases) it(name, () => expect(authorizeRequest(httpbin, f).allowed).toBe(allowed));

  it("names the deciding policy; dry-run policies never decide", () => {
    expect(authorizeRequest(httpbin, facts("DELETE", "/get"))).toEqual({ allowed: false, policy: "demo/deny-delete" });
    expect(authorizeRequest(httpbin, facts("GET", "/get"))).toEqual({ allowed: true, policy: "demo/allow-sleep-get" });
  });

  it("a service with only the waypoint's DENY allows the rest", () => {
    const svc = policiesFor(cfg.l7Policies ?? [], gw, { namespace: "demo", name: "web" });
    expect(authorizeRequest(svc, facts("POST", "/x", other)).allowed).toBe(true);
  });

  it("rejects a policy without targets by name", () => {
    const bad = parseLocalConfig("l7Policies: [{ name: p, namespace: demo, action: Allow, targets: [] }]");
    expect(bad.rejected).toEqual([{ kind: "policy", name: "demo/p", reason: expect.stringContaining("targets a waypoint") }]);
  });
});
