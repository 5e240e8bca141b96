#!/usr/bin/env node
// npm run bench:modules: what each library costs a proxy process in resident memory, as it ships (an
// esbuild bundle run with the images' V8 flags). Each package the ztunnel and waypoint bundles import is
// bundled alone and run idle; its RSS minus an empty bundle's is what loading it costs. Node's own
// http2 and tls modules are measured the same way. The whole proxies are measured idle too, in a
// private network namespace (ztunnel on a LOCAL_CONFIG, no capture). Prints a table; writes
// results/module-rss.{json,md}. Needs root for the namespace.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { bundle, importedPackages } from "../mesh/build.ts";
import { processTree } from "../mesh/measure/index.ts";
import { run, scriptArgs } from "../mesh/shared/index.ts";
import { ROOT, runMain, sayAs, writeResults } from "./harness.ts";

const say = sayAs("modules");
const USAGE = `Usage: sudo npm run bench:modules
  resident memory of each library the proxies load, bundled alone and idle, and of the proxies idle;
  prints a table and writes results/module-rss.{json,md}. Needs root (a network namespace for the proxies).
`;
/** The images' V8 flags (mesh/Dockerfile ENTRYPOINT). */
const NODE_FLAGS = ["--max-semi-space-size=2"];
const SETTLE_MS = 2000;

/** Starts `args` with this Node, waits for it to settle, returns its VmRSS in MB, and stops it. */
async function idleRss(args: string[], prefix: string[] = [], extraFlags: string[] = []): Promise<number> {
  const node = [process.execPath, ...NODE_FLAGS, ...extraFlags, ...args];
  const [cmd, ...rest] = [...prefix, ...node];
  const child = spawn(cmd!, rest, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  // Under `ip netns exec` node may be a child of the command started: read the innermost process.
  const pid = (await processTree(child.pid!)).at(-1)!;
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  child.kill("SIGTERM");
  await exited;
  const kb = /^VmRSS:\s+(\d+)/m.exec(status)?.[1];
  if (!kb) throw new Error(`${args.join(" ")} exited before it could be measured: ${stderr.trim().slice(0, 500)}`);
  return Math.round((Number(kb) / 1024) * 10) / 10;
}

async function main(): Promise<void> {
  scriptArgs("bench:modules", USAGE, { options: {} });
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench:modules needs root (a network namespace for the proxies): run it with sudo\n");
    process.exit(2);
  }
  const dir = await mkdtemp(join(os.tmpdir(), "al-modules-"));
  const netns = `al-mod-${process.pid}`;
  try {
    const probe = async (name: string, code: string): Promise<string> => {
      const out = join(dir, `${name.replace(/[^a-z0-9]+/gi, "_")}.mjs`);
      await build({
        // A full GC after loading, so what is measured is what stays, not when the heap last grew.
        stdin: { contents: `${code}\nsetTimeout(() => globalThis.gc?.(), 500);\nsetInterval(() => {}, 1000);\n`, resolveDir: ROOT, loader: "ts" },
        outfile: out,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node24",
        banner: { js: "import { createRequire as __alCreateRequire } from 'node:module'; const require = __alCreateRequire(import.meta.url);" },
        logLevel: "silent",
      });
      return out;
    };
    const empty = await idleRss([await probe("empty", "")], [], ["--expose-gc"]);
    say(`empty bundle: ${empty} MB`);
    const packages = [...new Set([...(await importedPackages("ztunnel")), ...(await importedPackages("waypoint"))])].filter((p) => p !== "reflect-metadata");
    const modules = ["node:http2", "node:tls", ...packages.sort()];
    // What our code imports with it: x509 needs the reflect polyfill; a TLS context is what proxies make.
    const importOf = (m: string, i: number) =>
      m === "node:tls"
        ? `import tls from "node:tls"; globalThis.__k${i} = tls.createSecureContext({});`
        : `${m.startsWith("@peculiar/") ? 'import "reflect-metadata"; ' : ""}import * as m${i} from "${m}"; globalThis.__k${i} = m${i};`;
    const all = await idleRss([await probe("all", modules.map(importOf).join("\n"))], [], ["--expose-gc"]);
    say(`every module together: ${all} MB`);
    const rows: Array<{ module: string; rssMb: number; addedMb: number; marginalMb: number }> = [];
    for (const [i, m] of modules.entries()) {
      const alone = await idleRss([await probe(m, importOf(m, i))], [], ["--expose-gc"]);
      // Marginal: what leaving this one module out of all of them saves (modules share code and data).
      const without = await idleRss(
        [
          await probe(
            `without-${m}`,
            modules
              .filter((x) => x !== m)
              .map(importOf)
              .join("\n"),
          ),
        ],
        [],
        ["--expose-gc"],
      );
      rows.push({ module: m, rssMb: alone, addedMb: Math.round((alone - empty) * 10) / 10, marginalMb: Math.round((all - without) * 10) / 10 });
      say(`${m}: alone ${alone} MB (+${rows.at(-1)!.addedMb}), marginal ${rows.at(-1)!.marginalMb} MB`);
    }
    say("bundling ztunnel and the waypoint, and running them idle in a network namespace");
    await run("ip", ["netns", "add", netns]);
    await run("ip", ["-n", netns, "link", "set", "lo", "up"]);
    const config = join(dir, "config.yaml");
    await writeFile(config, "workloads: []\nservices: []\n");
    const inNs = ["ip", "netns", "exec", netns, "env", `LOCAL_CONFIG=${config}`, `CA_DIR=${join(dir, "ca")}`, "LOG_LEVEL=warn"];
    const proxies = {
      ztunnel: await idleRss([await bundle("ztunnel")], [...inNs, "NODE_NAME=node-1"]),
      waypoint: await idleRss([await bundle("waypoint")], [...inNs, "WAYPOINT_NAME=waypoint", "POD_NAMESPACE=demo"]),
    };
    const result = {
      machine: { node: process.versions.node, date: new Date().toISOString().slice(0, 10) },
      nodeFlags: NODE_FLAGS,
      emptyMb: empty,
      modules: rows,
      proxiesIdleMb: proxies,
    };
    const md = [
      `# resident memory by module`,
      ``,
      `Each module bundled alone (esbuild, as the images), run idle with Node ${result.machine.node} ${NODE_FLAGS.join(" ")}, ${result.machine.date}. ` +
        `An empty bundle: ${empty} MB; all of them together: ${all} MB. Added: the module alone minus the empty bundle. ` +
        `Marginal: all of them minus all but this one, what leaving it out of a proxy would save (modules share code, so neither column sums).`,
      ``,
      `| module | RSS alone MB | added MB | marginal MB |`,
      `|---|---|---|---|`,
      ...rows.sort((a, b) => b.marginalMb - a.marginalMb).map((r) => `| ${r.module} | ${r.rssMb} | ${r.addedMb} | ${r.marginalMb} |`),
      ``,
      `Idle proxies (bundles, LOCAL_CONFIG, no capture): ztunnel ${proxies.ztunnel} MB, waypoint ${proxies.waypoint} MB.`,
      ``,
    ].join("\n");
    await writeResults("module-rss", JSON.stringify(result, null, 2) + "\n", md, say);
  } finally {
    await run("ip", ["netns", "del", netns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

runMain("bench:modules", main);
