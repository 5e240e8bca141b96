// Policy conformance: Istio's documented AuthorizationPolicy and PeerAuthentication semantics, applied
// as Kubernetes objects through the control plane's translation and its wire encoding to two real
// ztunnels (in-process, real sockets and mTLS), checking who gets through. Each case cites the Istio
// documentation it follows. Callers: `a` (demo/sa/a) and `b` (other/sa/b) are enrolled on node-1;
// `plain` is a pod outside the mesh; the server (demo, app=server, sa server) is on node-2.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressFromProto, authorizationFromProto, authorizationToProto, serviceToProto, workloadToProto } from "../api/index.ts";
import type { Authorization, Service, Workload } from "../api/index.ts";
import { echoServer, roundTrip, type TestServer } from "../testing/index.ts";
import { inProcessMesh, type InProcessMesh } from "../testing/index.ts";
import { emptySnapshot, type ClusterSnapshot } from "./model/kube.ts";
import { parseManifests } from "./model/manifests.ts";
import { translate } from "./translate/index.ts";

const A = "127.0.31.10";
const B = "127.0.31.11";
const PLAIN = "127.0.31.20";
const SERVER = "127.0.32.10";
const pod = (ns: string, name: string, sa: string, node: string, ip: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}, namespace: ${ns}, labels: { app: ${name} } }\nspec: { nodeName: ${node}, serviceAccountName: ${sa}, containers: [{ name: c, image: x }] }\nstatus: { podIP: ${ip} }`;
const CLUSTER = [
  "apiVersion: v1\nkind: Namespace\nmetadata: { name: istio-system }",
  "apiVersion: v1\nkind: Namespace\nmetadata: { name: demo, labels: { istio.io/dataplane-mode: ambient } }",
  "apiVersion: v1\nkind: Namespace\nmetadata: { name: other, labels: { istio.io/dataplane-mode: ambient } }",
  "apiVersion: v1\nkind: Namespace\nmetadata: { name: legacy }",
  pod("demo", "a", "a", "node-1", A),
  pod("other", "b", "b", "node-1", B),
  pod("legacy", "plain", "plain", "node-1", PLAIN),
  pod("demo", "server", "server", "node-2", SERVER),
].join("\n---\n");

const AUTHZ = "https://istio.io/latest/docs/reference/config/security/authorization-policy/";
const L4 = "https://istio.io/latest/docs/ambient/usage/l4-policy/";
const PEER = "https://istio.io/latest/docs/concepts/security/#peer-authentication";
const ap = (ns: string, name: string, spec: string) =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: ${spec}`;
const pa = (ns: string, name: string, spec: string) =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: ${spec}`;

interface Case {
  name: string;
  doc: string;
  objects: string[];
  port?: number;
  /** Who gets through. */
  allowed: { a: boolean; b: boolean; plain: boolean };
}

const CASES: Case[] = [
  {
    name: "no policy allows everyone",
    doc: `${AUTHZ}#AuthorizationPolicy (no ALLOW policy: allowed)`,
    objects: [],
    allowed: { a: true, b: true, plain: true },
  },
  {
    name: "ALLOW by principal admits only that identity",
    doc: `${AUTHZ}#Source-principals`,
    objects: [ap("demo", "allow-a", '{ action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/demo/sa/a"] } }] }] }')],
    allowed: { a: true, b: false, plain: false },
  },
  {
    name: "DENY by namespace denies that namespace; plaintext has no namespace and is not matched",
    doc: `${AUTHZ}#Source-namespaces`,
    objects: [ap("demo", "deny-other", "{ action: DENY, rules: [{ from: [{ source: { namespaces: [other] } }] }] }")],
    allowed: { a: true, b: false, plain: true },
  },
  {
    name: "an ALLOW policy without rules allows nothing (allow-nothing)",
    doc: `${AUTHZ} (example allow-nothing: spec: {})`,
    objects: [ap("demo", "allow-nothing", "{}")],
    allowed: { a: false, b: false, plain: false },
  },
  {
    name: "an ALLOW rule that is empty matches everything (allow-all)",
    doc: `${AUTHZ} (example allow-all: rules: [{}])`,
    objects: [ap("demo", "allow-all", "{ rules: [{}] }")],
    allowed: { a: true, b: true, plain: true },
  },
  {
    name: "a DENY rule that is empty matches everything (deny-all)",
    doc: `${AUTHZ} (example deny-all: action DENY, rules: [{}])`,
    objects: [ap("demo", "deny-all", "{ action: DENY, rules: [{}] }")],
    allowed: { a: false, b: false, plain: false },
  },
  {
    name: "ALLOW with only HTTP fields: ztunnel drops the rule, so the policy allows nothing",
    doc: `${L4} (ALLOW policies with L7 attributes are enforced more restrictively)`,
    objects: [ap("demo", "allow-get", "{ action: ALLOW, rules: [{ to: [{ operation: { methods: [GET] } }] }] }")],
    allowed: { a: false, b: false, plain: false },
  },
  {
    name: "DENY with HTTP fields is enforced without them (denies more)",
    doc: `${L4} (DENY policies with L7 attributes are enforced at L4 without them)`,
    objects: [ap("demo", "deny-post", "{ action: DENY, rules: [{ from: [{ source: { namespaces: [other] } }], to: [{ operation: { methods: [POST] } }] }] }")],
    allowed: { a: true, b: false, plain: true },
  },
  {
    name: "a selector that matches no workload has no effect",
    doc: `${AUTHZ}#AuthorizationPolicy-selector`,
    objects: [
      ap(
        "demo",
        "elsewhere",
        '{ selector: { matchLabels: { app: nothing } }, action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/demo/sa/a"] } }] }] }',
      ),
    ],
    allowed: { a: true, b: true, plain: true },
  },
  {
    name: "a selector that matches the server applies to it",
    doc: `${AUTHZ}#AuthorizationPolicy-selector`,
    objects: [
      ap(
        "demo",
        "server-only-a",
        '{ selector: { matchLabels: { app: server } }, action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/demo/sa/a"] } }] }] }',
      ),
    ],
    allowed: { a: true, b: false, plain: false },
  },
  {
    name: "a policy in the root namespace without a selector applies mesh-wide",
    doc: `${AUTHZ}#AuthorizationPolicy (root namespace: mesh-wide)`,
    objects: [ap("istio-system", "mesh-allow-a", '{ action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/demo/sa/a"] } }] }] }')],
    allowed: { a: true, b: false, plain: false },
  },
  {
    name: "ipBlocks match the verified source address",
    doc: `${AUTHZ}#Source-ip_blocks`,
    objects: [ap("demo", "from-a-ip", `{ action: ALLOW, rules: [{ from: [{ source: { ipBlocks: ["${A}/32", "${PLAIN}/32"] } }] }] }`)],
    allowed: { a: true, b: false, plain: true },
  },
  {
    name: "notPrincipals matches plaintext callers, which have no principal",
    doc: `${AUTHZ}#Source-not_principals`,
    objects: [ap("demo", "only-a", '{ action: DENY, rules: [{ from: [{ source: { notPrincipals: ["cluster.local/ns/demo/sa/a"] } }] }] }')],
    allowed: { a: true, b: false, plain: false },
  },
  {
    name: "when source.namespace at L4",
    doc: `${AUTHZ}#Condition and https://istio.io/latest/docs/reference/config/security/conditions/`,
    objects: [ap("demo", "when-demo", "{ action: ALLOW, rules: [{ when: [{ key: source.namespace, values: [demo] }] }] }")],
    allowed: { a: true, b: false, plain: false },
  },
  {
    name: "DENY is evaluated before ALLOW",
    doc: `${AUTHZ} (policy precedence: CUSTOM, DENY, then ALLOW)`,
    objects: [
      ap("demo", "allow-b", '{ action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/other/sa/b"] } }] }] }'),
      ap("demo", "deny-other", "{ action: DENY, rules: [{ from: [{ source: { namespaces: [other] } }] }] }"),
    ],
    allowed: { a: false, b: false, plain: false },
  },
  {
    name: "to.ports: an ALLOW for another port does not admit this one",
    doc: `${AUTHZ}#Operation-ports`,
    objects: [ap("demo", "only-9090", '{ action: ALLOW, rules: [{ to: [{ operation: { ports: ["9090"] } }] }] }')],
    allowed: { a: false, b: false, plain: false },
  },
  {
    name: "namespace STRICT refuses plaintext, mesh callers pass",
    doc: PEER,
    objects: [pa("demo", "default", "{ mtls: { mode: STRICT } }")],
    allowed: { a: true, b: true, plain: false },
  },
  {
    name: "mesh-wide STRICT with a namespace PERMISSIVE: the namespace wins",
    doc: `${PEER} (narrower policies override wider ones)`,
    objects: [pa("istio-system", "default", "{ mtls: { mode: STRICT } }"), pa("demo", "default", "{ mtls: { mode: PERMISSIVE } }")],
    allowed: { a: true, b: true, plain: true },
  },
  {
    name: "namespace STRICT with a workload PERMISSIVE: the workload wins",
    doc: `${PEER} (workload-specific policies take precedence)`,
    objects: [
      pa("demo", "default", "{ mtls: { mode: STRICT } }"),
      pa("demo", "server", "{ selector: { matchLabels: { app: server } }, mtls: { mode: PERMISSIVE } }"),
    ],
    allowed: { a: true, b: true, plain: true },
  },
  {
    name: "mesh-wide STRICT with a namespace UNSET: inherited",
    doc: `${PEER} (UNSET inherits from the parent)`,
    objects: [pa("istio-system", "default", "{ mtls: { mode: STRICT } }"), pa("demo", "default", "{ mtls: { mode: UNSET } }")],
    allowed: { a: true, b: true, plain: false },
  },
];

function snapshotOf(text: string): ClusterSnapshot {
  const parsed = parseManifests(text);
  if (parsed.errors.length) throw new Error(JSON.stringify(parsed.errors));
  const snap = emptySnapshot() as { [K in keyof ClusterSnapshot]: unknown[] };
  for (const o of parsed.objects) snap[o.kind].push(o.object);
  return snap as unknown as ClusterSnapshot;
}

/** The control plane's view, encoded and decoded as the config stream carries it to each ztunnel. */
function overTheWire(objects: string[]): { workloads: Workload[]; services: Service[]; policies: Authorization[] } {
  const t = translate(snapshotOf([CLUSTER, ...objects].join("\n---\n")));
  const rejected = t.notes.filter((n) => n.status === "Rejected");
  if (rejected.length) throw new Error(`case objects rejected: ${JSON.stringify(rejected)}`);
  const addresses = [...t.workloads.map(workloadToProto), ...t.services.map(serviceToProto)].map(addressFromProto);
  return {
    workloads: addresses.flatMap((x) => ("workload" in x ? [x.workload] : [])),
    services: addresses.flatMap((x) => ("service" in x ? [x.service] : [])),
    policies: t.policies.map(authorizationToProto).map(authorizationFromProto),
  };
}

let mesh: InProcessMesh;
const echoes: TestServer[] = [];

beforeAll(async () => {
  echoes.push(await echoServer(SERVER, 8080));
  // Pod addresses and nodes come from the same cluster; the ztunnels' config is replaced per case.
  const local = `workloads:\n${[
    [A, "a", "demo", "node-1"],
    [B, "b", "other", "node-1"],
    [SERVER, "server", "demo", "node-2"],
  ]
    .map(([ip, n, ns, node]) => `  - { uid: u-${n}, name: ${n}, namespace: ${ns}, workloadIps: [${ip}], serviceAccount: ${n}, node: ${node} }`)
    .join("\n")}\n`;
  mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config: local });
});

afterAll(async () => {
  await mesh?.close();
  await Promise.all(echoes.map((e) => e.close()));
});

async function through(socket: Promise<import("node:net").Socket>): Promise<boolean> {
  try {
    return (await roundTrip(await socket, "ping", 3000)).toString() === "ping";
  } catch {
    return false;
  }
}

describe("policy conformance (Istio semantics, control-plane translation to real ztunnels)", () => {
  for (const c of CASES) {
    it(`${c.name} [${c.doc}]`, async () => {
      const config = overTheWire(c.objects);
      for (const store of mesh.stores.values()) store.replace(config, "changed");
      const dst = { ip: SERVER, port: c.port ?? 8080 };
      const got = {
        a: await through(mesh.dial(A, dst)),
        b: await through(mesh.dial(B, dst)),
        plain: await through(mesh.dialPlaintext(PLAIN, dst)),
      };
      expect(got).toEqual(c.allowed);
    });
  }
});
