// ESLint: typescript-eslint's recommended rules, and the architecture as boundaries (ARCHITECTURE.md,
// "Modules and who may import whom"): code outside a mesh/<component> folder imports it only through
// its index.ts, and components depend on each other only as drawn there.
import boundaries from "eslint-plugin-boundaries";
import tseslint from "typescript-eslint";

const component = (name) => ({ element: { type: "component", captured: { name } } });
// Who may not import whom (everything else goes through index.ts).
const forbidden = [
  ["shared", ["api", "proxy", "ztunnel", "waypoint", "control-plane", "local", "ctl", "manifests", "testing"]],
  ["api", ["proxy", "ztunnel", "waypoint", "control-plane", "local", "ctl", "manifests", "testing"]],
  ["proxy", ["ztunnel", "waypoint", "control-plane", "local", "ctl", "manifests", "testing"]],
  ["ztunnel", ["waypoint", "control-plane", "local", "ctl", "manifests", "testing"]],
  ["waypoint", ["ztunnel", "control-plane", "local", "ctl", "manifests", "testing"]],
  ["control-plane", ["proxy", "ztunnel", "waypoint", "local", "ctl", "testing"]],
  ["manifests", ["proxy", "ztunnel", "waypoint", "control-plane", "local", "ctl", "testing"]],
  ["ctl", ["proxy", "ztunnel", "waypoint", "control-plane", "local", "manifests", "testing"]],
  ["local", ["testing"]],
  ["measure", ["api", "proxy", "ztunnel", "waypoint", "control-plane", "local", "ctl", "manifests", "testing"]],
];

// mesh/testing has a second entry, expect.ts: vitest assertions, for test files only (its index.ts
// serves scripts and benchmarks too, which must not load vitest).
const throughIndex = {
  disallow: { to: { element: { type: "component", fileInternalPath: "!index.ts" } } },
  message: "import {{to.captured.name}} through its index.ts",
};
const testAssertions = { allow: { to: { element: { type: "component", captured: { name: "testing" }, fileInternalPath: "expect.ts" } } } };
// mesh/proxy has a second entry, h2/index.ts: our HTTP/2, node: modules only, which the floor relay
// (bench/floor-relay.ts) measures without loading the proxy's libraries.
const proxyH2 = { allow: { to: { element: { type: "component", captured: { name: "proxy" }, fileInternalPath: "h2/index.ts" } } } };
// and a third, startup-efficiency.ts (node:v8 only): a proxy process's entry point turns V8's efficiency
// mode on with it before it imports anything else.
const proxyStartup = {
  allow: { to: { element: { type: "component", captured: { name: "proxy" }, fileInternalPath: "startup-efficiency.ts" } } },
};
const layers = forbidden.flatMap(([from, tos]) =>
  tos.map((to) => ({ from: component(from), disallow: { to: component(to) }, message: `${from} may not import ${to} (ARCHITECTURE.md)` })),
);

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "deploy/", "results/", "mesh/api/gen/", "bench/k6/"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { boundaries },
    settings: {
      "boundaries/elements": [
        { type: "component", pattern: "mesh/*", capture: ["name"] },
        // The Pulumi program, benchmarks and scripts use the mesh's components from outside.
        { type: "outside", pattern: ["bench", "components", "scripts"] },
      ],
      "boundaries/include": ["mesh/**/*.ts", "bench/**/*.ts", "components/**/*.ts", "scripts/**/*.ts", "*.ts"],
      "boundaries/legacy-templates": false,
    },
    rules: { "boundaries/dependencies": [2, { default: "allow", policies: [throughIndex, testAssertions, proxyH2, proxyStartup, ...layers] }] },
  },
  // Tests and the test harness may use any component (through its index.ts).
  {
    files: ["**/*.test.ts", "mesh/testing/**/*.ts"],
    rules: { "boundaries/dependencies": [2, { default: "allow", policies: [throughIndex, testAssertions, proxyH2, proxyStartup] }] },
  },
);
