// What the netns tests, the demo and the benchmarks need from the machine, and how to get it
// (Debian's packages, installed with apt-get through zx).
import { $, which } from "zx";

export type Purpose = "test" | "demo" | "bench" | "local" | "monitoring";

interface Requirement {
  tool: string;
  pkg: string;
  for: Purpose[];
  /** Installed without Debian's recommended packages (a browser's pull in systemd, avahi and CUPS). */
  bare?: true;
  /** A Python module Debian's package provides: found by importing it with Debian's python3. */
  module?: string;
}

const REQUIREMENTS: Requirement[] = [
  { tool: "ip", pkg: "iproute2", for: ["test", "demo", "bench", "local"] },
  { tool: "nft", pkg: "nftables", for: ["test", "demo", "bench", "local"] },
  { tool: "curl", pkg: "curl", for: ["test", "demo", "bench", "local"] },
  { tool: "gunicorn", pkg: "gunicorn", for: ["test", "demo", "local"] },
  { tool: "httpbin", pkg: "python3-httpbin", for: ["test", "demo", "local"], module: "httpbin" },
  { tool: "tcpdump", pkg: "tcpdump", for: ["test", "demo"] },
  { tool: "openssl", pkg: "openssl", for: ["test"] },
  { tool: "nginx", pkg: "nginx", for: ["bench", "test", "demo", "local"] },
  { tool: "iperf3", pkg: "iperf3", for: ["bench"] },
  { tool: "prometheus", pkg: "prometheus", for: ["monitoring", "test"] },
  // `kubectl kustomize` builds every folder of the rendered GitOps tree in the tests.
  { tool: "kubectl", pkg: "kubernetes-client", for: ["test"] },
  // The report is opened in a real browser in the tests (bench/report/browser.test.ts).
  { tool: "chromium-headless-shell", pkg: "chromium-headless-shell", for: ["test"], bare: true },
  // Independent HTTP/2 peers for the HBONE framing's interop tests (mesh/proxy/h2).
  { tool: "h2", pkg: "python3-h2", for: ["test"], module: "h2" },
  { tool: "nghttp", pkg: "nghttp2-client", for: ["test"] },
];

const BARE = new Set(REQUIREMENTS.filter((r) => r.bare).map((r) => r.pkg));

export interface PrereqReport {
  root: boolean;
  linux: boolean;
  missing: Array<{ tool: string; pkg: string }>;
}

export async function checkPrereqs(purpose: Purpose): Promise<PrereqReport> {
  const missing: PrereqReport["missing"] = [];
  for (const r of REQUIREMENTS.filter((x) => x.for.includes(purpose))) {
    // A Python module: look for Debian's package, not just an interpreter.
    const found = r.module
      ? (await $({ nothrow: true, quiet: true })`/usr/bin/python3 -c ${`import ${r.module}`}`).exitCode === 0
      : (await which(r.tool, { nothrow: true })) !== null;
    if (!found) missing.push({ tool: r.tool, pkg: r.pkg });
  }
  return { root: process.getuid?.() === 0, linux: process.platform === "linux", missing };
}

export function installCommand(missing: PrereqReport["missing"]): string {
  const { plain, bare } = split(missing);
  return [
    ...(plain.length ? [`apt-get install -y ${plain.join(" ")}`] : []),
    ...(bare.length ? [`apt-get install -y --no-install-recommends ${bare.join(" ")}`] : []),
  ].join(" && ");
}

function split(missing: PrereqReport["missing"]): { plain: string[]; bare: string[] } {
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  return { plain: pkgs.filter((p) => !BARE.has(p)), bare: pkgs.filter((p) => BARE.has(p)) };
}

/** A message naming everything that is missing and how to fix it; empty when all is there. */
export function describeMissing(r: PrereqReport, flag = "--install-deps"): string {
  const lines: string[] = [];
  if (!r.linux) lines.push("this needs Linux (network namespaces and nftables)");
  if (!r.root) lines.push("this needs root to create network namespaces: run it with sudo");
  if (r.missing.length) {
    lines.push(`missing tools: ${r.missing.map((m) => m.tool).join(", ")}; install them with: ${installCommand(r.missing)}${flag ? ` (or pass ${flag})` : ""}`);
  }
  return lines.join("\n");
}

/** Installs missing Debian packages with apt-get, printing what it does. */
export async function installMissing(r: PrereqReport, say: (s: string) => void): Promise<void> {
  if (r.missing.length === 0) return;
  const pkgs = [...new Set(r.missing.map((m) => m.pkg))];
  say(`installing ${pkgs.join(", ")} with apt-get`);
  const apt = $({ nothrow: true, quiet: true, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  const update = await apt({ timeout: "5m" })`apt-get update -qq`;
  if (update.exitCode !== 0) throw new Error(`apt-get update failed: ${update.stderr.trim()}`);
  const { plain, bare } = split(r.missing);
  for (const [list, flags] of [
    [plain, []],
    [bare, ["--no-install-recommends"]],
  ] as const) {
    if (list.length === 0) continue;
    const inst = await apt({ timeout: "10m" })`apt-get install -y -qq ${flags} ${list}`;
    if (inst.exitCode !== 0) throw new Error(`apt-get install failed: ${inst.stderr.trim()}`);
  }
}
