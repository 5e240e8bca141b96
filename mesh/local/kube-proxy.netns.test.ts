// The rendered service rules against the real nft, in a throwaway network namespace (needs root).
import { describe, expect, it } from "vitest";
import { planServices } from "./config-render.ts";
import { renderKubeProxy } from "./kube-proxy.ts";
import { planTopology } from "./plan.ts";

const plan = planTopology({
  prefix: "al-demo",
  nodes: [{ name: "node-1" }, { name: "node-2" }],
  pods: [
    { namespace: "ambient-demo", name: "httpbin", node: "node-2" },
    { namespace: "ambient-demo", name: "httpbin-2", node: "node-2" },
  ],
});
const services = planServices([
  { namespace: "ambient-demo", name: "httpbin", selector: ["httpbin", "httpbin-2"], ports: [{ port: 8000, targetPort: 8080 }] },
  { namespace: "baseline", name: "empty", selector: [], ports: [{ port: 80, targetPort: 8080 }] },
]);

describe("rendered nftables rules", () => {
  it("are accepted by nft (check mode, in a throwaway namespace)", async () => {
    const { run } = await import("../shared/index.ts");
    const ns = `al-nftc-${process.pid}`;
    expect((await run("ip", ["netns", "add", ns])).code).toBe(0);
    try {
      const r = await run("ip", ["netns", "exec", ns, "nft", "-c", "-f", "-"], renderKubeProxy(services, plan.pods));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    } finally {
      await run("ip", ["netns", "del", ns]);
    }
  });
});
