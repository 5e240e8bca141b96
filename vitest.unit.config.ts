import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// The unit tier (`npm run test:unit`): everything that needs neither root nor network namespaces, so it
// runs on a laptop as an ordinary user. Files named *.netns.test.ts and *.e2e.test.ts are the root tier.
export const ROOT_TIER = ["**/*.netns.test.ts", "**/*.e2e.test.ts"];

export default mergeConfig(
  base,
  defineConfig({
    test: { exclude: [...configDefaults.exclude, ...ROOT_TIER], fileParallelism: true },
  }),
);
