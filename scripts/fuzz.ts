#!/usr/bin/env node
// npm run fuzz [-- --inputs 1000000 --network 5000 --seed N]: the long fuzz run. The parser targets share
// --inputs (weighted by their cost), each socket target gets --network inputs; afterwards the proxies
// must be ready and back to their baseline fds and connections. Exits non-zero on the first failure,
// printing fast-check's shrunk counterexample and the seed that reproduces it.
import { parseArgs } from "node:util";
import { networkFuzz } from "../mesh/testing/index.ts";
import { fuzzTargets } from "../mesh/testing/index.ts";

const USAGE = `Usage: npm run fuzz [-- --inputs N] [--network N] [--seed N]
  --inputs N   inputs over the parser targets (forwarded, authority, LOCAL_CONFIG, routing/L7 policy, CSR); default 1000000
  --network N  inputs for each socket target (HBONE frames, HTTP/1.1 through a waypoint); default 5000
  --seed N     fast-check seed (default: random; printed so a failure can be replayed)
Needs no root: the proxies run in this process on loopback.
`;

let values: { inputs?: string; network?: string; seed?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: { inputs: { type: "string" }, network: { type: "string" }, seed: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  }));
} catch (err) {
  process.stderr.write(`fuzz: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const num = (v: string | undefined, def: number, name: string) => {
  const n = v === undefined ? def : Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`fuzz: --${name} takes a whole number, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const inputs = num(values.inputs, 1_000_000, "inputs");
const perNetwork = num(values.network, 5_000, "network");
const seed = num(values.seed, Math.floor(Math.random() * 2 ** 31), "seed");

// Shares of --inputs: the cheap parsers get more, the YAML and ASN.1 ones less (their inputs cost ~20x).
const WEIGHT: Record<string, number> = {
  "forwarded header": 30,
  "CONNECT authority": 30,
  "waypoint route and L7 policy on any request": 30,
  "LOCAL_CONFIG file": 5,
  CSR: 5,
};
const total = Object.values(WEIGHT).reduce((a, b) => a + b, 0);
const mb = () => Math.round(process.memoryUsage().rss / 1e6);
const say = (s: string) => process.stdout.write(`${s}\n`);

say(`fuzz: seed ${seed}, ${inputs} parser inputs, ${perNetwork} per socket target`);
let done = 0;
try {
  for (const t of await fuzzTargets()) {
    const runs = Math.round((inputs * (WEIGHT[t.name] ?? 1)) / total);
    const t0 = Date.now();
    await t.run(runs, seed);
    done += runs;
    say(`  ok  ${t.name.padEnd(46)} ${String(runs).padStart(8)} inputs  ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  rss ${mb()} MB`);
  }
  const net = await networkFuzz();
  try {
    for (const t of net.targets) {
      const t0 = Date.now();
      await t.run(perNetwork, seed);
      await net.checkBaseline();
      done += perNetwork;
      say(
        `  ok  ${t.name.padEnd(46)} ${String(perNetwork).padStart(8)} inputs  ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  rss ${mb()} MB  (fds and connections back to baseline)`,
      );
    }
  } finally {
    await net.close();
  }
} catch (err) {
  process.stderr.write(`fuzz: FAILED after ${done} inputs (seed ${seed}; replay with --seed ${seed}):\n${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
say(`fuzz: ${done} inputs, no crash, no leak`);
process.exit(0);
