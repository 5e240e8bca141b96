// Property-based fuzzing (fast-check) of everything a peer or an operator's file controls that is parsed
// without a socket: the `forwarded` header, CONNECT authorities, LOCAL_CONFIG files, CSRs, and the
// waypoint's routing and L7 policy on arbitrary requests. The property is always the same: bad input
// gets a defined answer (a value, or a typed MeshError), never a crash or another exception.
// The bounded run is in npm test (mesh/fuzz.test.ts); the long one is `npm run fuzz`.
import fc from "fast-check";
import { tryParseAddr } from "../shared/index.ts";
import { MeshError } from "../shared/index.ts";
import { createCsr, inspectCsr } from "../shared/index.ts";
import { authorizeRequest } from "../waypoint/index.ts";
import { orderRules, routeRequest } from "../waypoint/index.ts";
import { parseForwardedFor } from "../proxy/index.ts";
import { parseLocalConfig, toResources } from "../proxy/index.ts";
import { ProxyState } from "../proxy/index.ts";

export interface FuzzTarget {
  name: string;
  /** Checks `runs` inputs; throws (with fast-check's shrunk counterexample) on the first failure. */
  run(runs: number, seed?: number): Promise<void>;
}

const ipLike = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }));
const portLike = fc.oneof(fc.integer({ min: -5, max: 70_000 }).map(String), fc.string({ maxLength: 6 }));
/** Text that looks like what the field should hold, or like anything at all. */
const authorityLike = fc.oneof(
  fc.tuple(ipLike, portLike).map(([i, p]) => `${i}:${p}`),
  fc.tuple(ipLike, portLike).map(([i, p]) => `[${i}]:${p}`),
  fc.string({ unit: "binary", maxLength: 80 }),
);
const forwardedLike = fc.oneof(
  authorityLike.map((a) => `for="${a}"`),
  fc.tuple(authorityLike, fc.string({ maxLength: 30 })).map(([a, h]) => `for=${a};host=${h}, for="${a}"`),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.array(fc.string({ maxLength: 40 }), { maxLength: 4 }),
);

const VALID_CONFIG = `workloads:
  - { uid: u1, name: web, namespace: demo, workloadIps: [198.18.2.10], serviceAccount: web, node: node-2, services: { "demo/web.demo.svc.cluster.local": { 80: 8080 } } }
services:
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [198.19.0.10], ports: { 80: 8080 } }
policies:
  - { name: p, namespace: demo, scope: Namespace, action: Deny, rules: [{ clauses: [{ matches: [{ principals: ["cluster.local/ns/demo/sa/x"], sourceIps: ["198.18.0.0/16"], destinationPorts: [80] }] }] }] }
httpRoutes:
  - { name: r, namespace: demo, parents: [demo/web.demo.svc.cluster.local], rules: [{ matches: [{ path: { type: PathPrefix, value: /a } }], backends: [{ service: demo/web.demo.svc.cluster.local, port: 80 }], requestHeaders: { set: { x-a: b } } }] }
l7Policies:
  - { name: l, namespace: demo, action: Deny, targets: [{ kind: Service, namespace: demo, name: web }], rules: [{ to: [{ methods: [DELETE], paths: ["/admin*"] }] }] }
`;

/** A valid text with random edits: the inputs most likely to get past the first checks. */
function mutated(text: string): fc.Arbitrary<string> {
  return fc.array(fc.tuple(fc.nat(text.length), fc.nat(8), fc.string({ unit: "binary", maxLength: 8 })), { maxLength: 6 }).map((edits) => {
    let t = text;
    for (const [at, del, ins] of edits) t = t.slice(0, at % (t.length + 1)) + ins + t.slice((at % (t.length + 1)) + del);
    return t;
  });
}

const configLike = fc.oneof(
  mutated(VALID_CONFIG),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ workloads: [v], services: v, policies: [v] })),
);

function expectTyped(err: unknown): void {
  if (!(err instanceof MeshError)) throw new Error(`untyped error: ${String(err)}`, { cause: err });
}

export async function fuzzTargets(): Promise<FuzzTarget[]> {
  const { csrPem } = await createCsr({ trustDomain: "cluster.local", namespace: "demo", serviceAccount: "web" });
  const csrDer = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const state = new ProxyState(toResources(parseLocalConfig(VALID_CONFIG)));
  const routes = orderRules(state.routesFor("demo/web.demo.svc.cluster.local"));
  const sync = (name: string, arb: fc.Arbitrary<unknown>, check: (v: never) => void): FuzzTarget => ({
    name,
    run: async (runs, seed) =>
      fc.assert(
        fc.property(arb, (v) => check(v as never)),
        { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
      ),
  });
  return [
    sync("forwarded header", forwardedLike, (v: string | string[]) => {
      const a = parseForwardedFor(v);
      if (a && !(a.port >= 0 && a.port <= 65_535)) throw new Error(`port out of range: ${JSON.stringify(a)}`);
    }),
    sync("CONNECT authority", authorityLike, (v: string) => {
      const a = tryParseAddr(v);
      if (a && !(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65_535)) throw new Error(`bad address accepted: ${JSON.stringify(a)}`);
    }),
    sync("LOCAL_CONFIG file", configLike, (v: string) => {
      try {
        new ProxyState(toResources(parseLocalConfig(v)));
      } catch (err) {
        expectTyped(err);
      }
    }),
    sync(
      "waypoint route and L7 policy on any request",
      fc.record({
        method: fc.string({ maxLength: 10 }),
        path: fc.string({ unit: "binary", maxLength: 60 }),
        headers: fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 5 }),
        port: fc.integer({ min: 0, max: 70_000 }),
      }),
      (r: { method: string; path: string; headers: Record<string, string>; port: number }) => {
        authorizeRequest(state.l7Policies, {
          srcIdentity: { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "x" },
          method: r.method,
          path: r.path,
          port: r.port,
        });
        routeRequest(
          routes,
          { service: "demo/web.demo.svc.cluster.local", port: r.port, weight: 1 },
          { method: r.method, path: r.path, headers: r.headers },
          () => 0,
        );
      },
    ),
    {
      name: "CSR",
      run: async (runs, seed) =>
        fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.array(fc.tuple(fc.nat(csrDer.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
                const der = Buffer.from(csrDer);
                for (const [at, b] of flips) der[at] = b;
                return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
              }),
              fc.string({ unit: "binary", maxLength: 200 }),
            ),
            async (pem) => {
              try {
                await inspectCsr(pem);
              } catch (err) {
                expectTyped(err);
              }
            },
          ),
          { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
        ),
    },
  ];
}
