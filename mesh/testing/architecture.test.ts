// The lint rules that hold the architecture (eslint.config.js) catch what they are for: reaching into
// another component's files, and a dependency ARCHITECTURE.md does not draw.
import { join } from "node:path";
import { ESLint } from "eslint";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const lint = async (file: string, code: string) => {
  const [r] = await new ESLint({ cwd: root }).lintText(code, { filePath: join(root, file) });
  return r!.messages.map((m) => m.message);
};

it("imports across components go through index.ts, and only along the drawn dependencies", async () => {
  expect(await lint("mesh/waypoint/probe.ts", 'import { StateStore } from "../proxy/index.ts";\nexport const x = StateStore;\n')).toEqual([]);
  expect(await lint("mesh/waypoint/probe.ts", 'import { StateStore } from "../proxy/state/store.ts";\nexport const x = StateStore;\n')).toEqual([
    "import proxy through its index.ts",
  ]);
  expect(await lint("mesh/waypoint/probe.ts", 'import { Ztunnel } from "../ztunnel/index.ts";\nexport const x = Ztunnel;\n')).toEqual([
    "waypoint may not import ztunnel (ARCHITECTURE.md)",
  ]);
  expect(await lint("mesh/shared/probe.ts", 'import { StateStore } from "../proxy/index.ts";\nexport const x = StateStore;\n')).toEqual([
    "shared may not import proxy (ARCHITECTURE.md)",
  ]);
  expect(await lint("bench/probe.ts", 'import { LocalCluster } from "../mesh/local/cluster.ts";\nexport const x = LocalCluster;\n')).toEqual([
    "import local through its index.ts",
  ]);
  // Tests may use any component, still through its index.ts.
  expect(await lint("mesh/waypoint/probe.test.ts", 'import { Ztunnel } from "../ztunnel/index.ts";\nexport const x = Ztunnel;\n')).toEqual([]);
}, 60_000);
