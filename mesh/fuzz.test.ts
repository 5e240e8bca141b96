// The bounded fuzz run of npm test: every target with a few hundred inputs and a fixed seed, so a failure
// reproduces. `npm run fuzz` runs the same targets with a million inputs and random seeds.
import { afterAll, beforeAll, describe, it } from "vitest";
import { networkFuzz, type NetworkFuzz } from "./testing/index.ts";
import { fuzzTargets } from "./testing/index.ts";

const SEED = 9;

describe("fuzz (bounded)", async () => {
  for (const t of await fuzzTargets()) {
    it(t.name, () => t.run(t.name === "LOCAL_CONFIG file" || t.name === "CSR" ? 150 : 500, SEED), 60_000);
  }
});

describe("fuzz over sockets (bounded)", () => {
  let net: NetworkFuzz;
  beforeAll(async () => {
    net = await networkFuzz();
  }, 30_000);
  afterAll(() => net?.close());
  for (const name of [
    "HBONE frames (HTTP/2 after an mTLS handshake)",
    "HBONE frames to the waypoint (HTTP/2 after an mTLS handshake)",
    "HTTP/1.1 through the waypoint",
    "HTTP/2 frames through the waypoint",
  ]) {
    it(`${name}: survives, and fds and connections return to baseline`, async () => {
      await net.targets.find((t) => t.name === name)!.run(120, SEED);
      await net.checkBaseline();
    }, 120_000);
  }
});
