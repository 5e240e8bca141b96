import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ztunnelObjects } from "../manifests/index.ts";
import { expectGolden } from "../testing/expect.ts";
import { ClusterView, type ClusterSpec } from "./cluster-view.ts";
import { localEntrypoint, meshImages, NODE_BIN, ROOT } from "./images.ts";
import { meshManifestOptions, meshPods, resolvePod } from "./mesh-pods.ts";

const spec = (mode: "control-plane" | "local-config"): ClusterSpec => ({
  prefix: "al-golden",
  nodes: ["node-1", "node-2"],
  pods: [
    { namespace: "demo", name: "sleep", node: "node-1", serviceAccount: "sleep", ambient: true },
    { namespace: "demo", name: "waypoint", node: "node-2", serviceAccount: "waypoint", ambient: false, gateway: "waypoint" },
    ...(mode === "control-plane" ? [{ namespace: "legacy", name: "web", node: "node-2", serviceAccount: "web", ambient: false, sidecar: true }] : []),
  ],
  services: [],
  workDir: "/work-dir/al-cluster",
  mode,
  ztunnelEnv: { LOG_LEVEL: "warn" },
});

const image = (ref: string) => localEntrypoint(ref, meshImages());
/** Machine-specific paths out, so the golden file is the same everywhere. */
const portable = (text: string) => text.replaceAll(NODE_BIN, "<node>").replaceAll(ROOT, "<checkout>/").replaceAll(`${tmpdir()}/`, "<tmp>/");

describe("the mesh's pods on this machine", () => {
  for (const mode of ["control-plane", "local-config"] as const) {
    it(`${mode} mode: command, environment, user and files of every mesh process (golden)`, () => {
      const view = new ClusterView(spec(mode));
      const resolved = meshPods(view).map((p) => resolvePod(view, p, image));
      expectGolden(join(import.meta.dirname, "testdata", `mesh-pods-${mode}.json`), portable(JSON.stringify(resolved, null, 2)) + "\n");
    });
  }

  it("ztunnel gets the DaemonSet container's whole environment, differing only where mesh-pods.ts says", () => {
    const view = new ClusterView(spec("control-plane"));
    const daemonSet = ztunnelObjects(meshManifestOptions(view)).find((o) => o.kind === "DaemonSet") as unknown as {
      spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } };
    };
    const shipped = daemonSet.spec.template.spec.containers[0]!.env;
    const local = resolvePod(view, meshPods(view).find((p) => p.key.kind === "ztunnel")!, image).spawn.env!;
    const differs = shipped.filter((e) => e.value !== undefined && local[e.name] !== e.value).map((e) => e.name);
    // Paths into mounted volumes, and the documented differences (drain deadline; the spec's LOG_LEVEL).
    expect(differs.sort()).toEqual(["CONNECTION_TERMINATION_DEADLINE", "LOG_LEVEL", "ROOT_CERT", "TOKEN_FILE"]);
    expect(Object.keys(local)).toEqual(expect.arrayContaining(shipped.map((e) => e.name)));
  });

  it("a sidecar needs the control plane", () => {
    const view = new ClusterView({
      ...spec("local-config"),
      pods: [{ namespace: "legacy", name: "web", node: "node-1", serviceAccount: "web", ambient: false, sidecar: true }],
    });
    expect(() => meshPods(view)).toThrow('sidecar pod legacy/web needs the control plane (mode "control-plane")');
  });
});
