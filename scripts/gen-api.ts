#!/usr/bin/env node
// npm run gen:api: regenerates mesh/api/gen from mesh/api/proto with protoc and protoc-gen-es
// (JavaScript plus declarations: plain JS runs under Node's type stripping, which rejects the
// TypeScript enums protoc-gen-es would otherwise emit). The generated files are committed.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "../mesh/shared/index.ts";

scriptArgs("gen:api", "Usage: npm run gen:api\n  regenerates mesh/api/gen from mesh/api/proto (needs protoc: apt-get install protobuf-compiler)\n", {
  options: {},
});

const api = fileURLToPath(new URL("../mesh/api", import.meta.url));
const plugin = fileURLToPath(new URL("../node_modules/.bin/protoc-gen-es", import.meta.url));
try {
  execFileSync("protoc", ["--version"], { stdio: "ignore" });
} catch {
  process.stderr.write("gen:api needs protoc: apt-get install protobuf-compiler\n");
  process.exit(2);
}
const protoDir = join(api, "proto");
const files = readdirSync(join(protoDir, "ambientlab/v1"))
  .filter((f) => f.endsWith(".proto"))
  .map((f) => `ambientlab/v1/${f}`);
rmSync(join(api, "gen"), { recursive: true, force: true });
execFileSync("mkdir", ["-p", join(api, "gen")]);
execFileSync(
  "protoc",
  [`--plugin=protoc-gen-es=${plugin}`, `--es_out=${join(api, "gen")}`, "--es_opt=target=js+dts,import_extension=js", `-I${protoDir}`, ...files],
  { stdio: "inherit" },
);
process.stdout.write(`generated ${files.length} files into mesh/api/gen\n`);
