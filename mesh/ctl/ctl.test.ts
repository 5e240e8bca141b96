// ambientctl's cluster commands without a cluster: parsing, rendering (golden), kubeconfig errors, and
// exec/port-forward through @kubernetes/client-node against the in-test API server's WebSocket endpoints.
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeApiServer, parseSelector } from "../testing/index.ts";
import { clientNodeAccess, exitCodeOf, loadKubeConfig } from "./kube-access.ts";
import { parseSamples, sumWhere } from "../shared/index.ts";
import { callCommand, denyPolicy, renderChecks, sampleMode } from "./verify.ts";
import { parseZtunnelDump, renderZtunnelConfig, ZTUNNEL_CONFIG_KINDS } from "./ztunnel-config.ts";
import { ztunnelConfigCommand, verifyCommand } from "./commands.ts";

const dir = mkdtempSync(join(tmpdir(), "al-ctl-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const testdata = (f: string) => new URL(`./testdata/${f}`, import.meta.url);

function kubeconfigFor(server: string, name = "k"): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters: [{ name: t, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]\nusers: [{ name: t, user: { token: x } }]\ncontexts: [{ name: t, context: { cluster: t, user: t } }]\ncurrent-context: t\n`,
  );
  return path;
}

describe("ztunnel-config rendering", () => {
  const dump = parseZtunnelDump(readFileSync(testdata("config-dump.json"), "utf8"), "test");
  for (const kind of ZTUNNEL_CONFIG_KINDS) {
    it(`renders ${kind} as the golden table`, () => {
      expect(renderZtunnelConfig(dump, kind)).toBe(readFileSync(testdata(`${kind}.txt`), "utf8"));
    });
  }

  it("reads upstream ztunnel's field names too (workloadIps, network/ip addresses)", () => {
    const up = parseZtunnelDump(
      JSON.stringify({
        workloads: [{ name: "p", namespace: "n", workloadIps: ["10.0.0.5"], node: "k1", protocol: "HBONE", status: "Healthy", serviceAccount: "sa" }],
        services: [{ name: "s", namespace: "n", hostname: "s.n.svc.cluster.local", vips: ["/10.96.0.9"], ports: { "80": 8080 } }],
      }),
      "up",
    );
    expect(renderZtunnelConfig(up, "workloads")).toContain("n          p         10.0.0.5  k1    None      HBONE     Healthy  sa");
    expect(renderZtunnelConfig(up, "services")).toMatch(/^n\s+s\s+10\.96\.0\.9\s+None\s+80->8080$/m);
  });

  it("names what is wrong with a body that is not a dump", () => {
    expect(() => parseZtunnelDump("<html>", "ztunnel x")).toThrow('ztunnel x: /config_dump is not JSON (starts "<html>"); is this a ztunnel admin port?');
    expect(() => parseZtunnelDump('{"workloads":[{"name":1}]}', "ztunnel x")).toThrow(/unexpected shape at workloads\.0\.name/);
  });
});

describe("metrics text", () => {
  it("parses samples with escaped labels and sums by label match", () => {
    const text =
      '# HELP x\nistio_tcp_connections_opened_total{reporter="destination",source_principal="spiffe://a\\"b",connection_security_policy="mutual_tls"} 3\nistio_tcp_connections_opened_total{reporter="source",connection_security_policy="mutual_tls"} 5\nup 1\nbroken{a="b" 2\n';
    const samples = parseSamples(text);
    expect(samples).toHaveLength(3);
    expect(samples[0]!.labels.source_principal).toBe('spiffe://a"b');
    expect(sumWhere(samples, "istio_tcp_connections_opened_total", { connection_security_policy: "mutual_tls" })).toBe(8);
    expect(sumWhere(samples, "istio_tcp_connections_opened_total", { reporter: "destination" })).toBe(3);
  });
});

describe("verify pieces", () => {
  const pod = (labels: Record<string, string> = {}) => ({
    namespace: "n",
    name: "httpbin",
    node: "k1",
    labels,
    serviceAccount: "httpbin",
    containers: ["httpbin"],
    ready: true,
  });
  it("tells a namespace's mode from its labels and its httpbin pod", () => {
    expect(sampleMode({ "istio.io/dataplane-mode": "ambient" }, pod())).toBe("ambient");
    expect(sampleMode({ "istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint" }, pod())).toBe("waypoint");
    expect(sampleMode({}, pod({ "ambient-lab.io/proxy": "sidecar" }))).toBe("sidecar");
    expect(sampleMode({}, pod({ "security.istio.io/tlsMode": "istio" }))).toBe("sidecar");
    expect(sampleMode({}, pod())).toBe("none");
  });
  it("builds the call and the DENY policy Istio's API expects", () => {
    expect(callCommand("ns1")).toEqual(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", "http://httpbin.ns1:8000/get"]);
    expect(denyPolicy("ns1", "cluster.local/ns/ns1/sa/sleep").body).toEqual({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "ambientctl-verify-deny", namespace: "ns1", labels: { "app.kubernetes.io/managed-by": "ambientctl" } },
      spec: { action: "DENY", rules: [{ from: [{ source: { principals: ["cluster.local/ns/ns1/sa/sleep"] } }] }] },
    });
  });
  it("reads exec statuses as exit codes and refuses a status that is not one", () => {
    expect(exitCodeOf({ status: "Success" })).toBe(0);
    expect(exitCodeOf({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "7" }] } })).toBe(7);
    expect(() => exitCodeOf({ status: "Failure", reason: "InternalError", message: "container not found" })).toThrow("exec failed: container not found");
  });
  it("summarises failures with what failed", () => {
    expect(
      renderChecks([
        { name: "a", ok: true, detail: "" },
        { name: "b", ok: false, detail: "HTTP 000" },
      ]),
    ).toBe("2 checks, 1 failed:\n  b: HTTP 000\n");
  });
  it("selects by equality label selectors", () => {
    expect(parseSelector("app=ztunnel,tier!=x")({ app: "ztunnel" })).toBe(true);
    expect(parseSelector("app=ztunnel")({ app: "sleep" })).toBe(false);
    expect(parseSelector("present")({ present: "" })).toBe(true);
  });
});

describe("kubeconfig and API errors", () => {
  it("names the missing kubeconfig, an unknown context and an unreachable API server", async () => {
    expect(() => loadKubeConfig({ kubeconfig: join(dir, "none") })).toThrow(/no kubeconfig at .*none: pass --kubeconfig F or set KUBECONFIG/);
    // A port nothing listens on (found free, then closed); fetch refuses "bad ports" such as 1 by itself.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closed = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const path = kubeconfigFor(`http://127.0.0.1:${closed}`, "closed");
    expect(() => loadKubeConfig({ kubeconfig: path, context: "prod" })).toThrow('no context "prod" in the kubeconfig; contexts: t');
    const lines: string[] = [];
    const deps = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), onInterrupt: () => () => undefined };
    await expect(ztunnelConfigCommand(["workloads", "--kubeconfig", path], deps)).rejects.toThrow(
      `cannot reach the API server at http://127.0.0.1:${closed}; is the cluster running (kubectl cluster-info)?`,
    );
    await expect(verifyCommand(["--kubeconfig", path], deps)).rejects.toThrow("cannot reach the API server");
    await expect(ztunnelConfigCommand(["routes"], deps)).rejects.toThrow(
      'ztunnel-config takes one of workloads, services, policies, certificates, all; got "routes"',
    );
    await expect(verifyCommand(["--policy-timeout", "soon"], deps)).rejects.toThrow('--policy-timeout takes seconds (> 0); got "soon"');
  });

  it("reports no ztunnels and a ztunnel that answers something else", async () => {
    const echo = net.createServer((s) => s.end("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n<html>"));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const api = new FakeApiServer({ streams: { portForward: async () => net.connect((echo.address() as net.AddressInfo).port, "127.0.0.1") } });
    const url = await api.start();
    try {
      const path = kubeconfigFor(url, "fake");
      const deps = { out: () => undefined, err: () => undefined };
      await expect(ztunnelConfigCommand(["workloads", "--kubeconfig", path], deps)).rejects.toThrow(
        `no ztunnel pods (app=ztunnel) in istio-system at ${url}: is the mesh installed`,
      );
      api.seed("/api/v1/namespaces/istio-system/pods", {
        metadata: { name: "ztunnel-a", namespace: "istio-system", labels: { app: "ztunnel" } },
        spec: { nodeName: "k1", containers: [{ name: "ztunnel" }] },
        status: {},
      });
      await expect(ztunnelConfigCommand(["workloads", "--kubeconfig", path], deps)).rejects.toThrow(
        'ztunnel istio-system/ztunnel-a on k1: /config_dump is not JSON (starts "<html>")',
      );
    } finally {
      await api.close();
      echo.close();
    }
  });

  it("exec through the API: output, exit codes, and output beyond the bound is counted, not kept", async () => {
    const api = new FakeApiServer({
      streams: {
        exec: async (_ns, _pod, _c, command) =>
          command[0] === "big"
            ? { code: 0, stdout: "x".repeat(3 << 20), stderr: "" }
            : { code: Number(command[1]), stdout: `ran ${command.join(" ")}`, stderr: "warn" },
      },
    });
    const url = await api.start();
    try {
      const access = clientNodeAccess(loadKubeConfig({ kubeconfig: kubeconfigFor(url, "exec") }));
      const pod = { namespace: "n", name: "p", node: "k", labels: {}, serviceAccount: "s", containers: ["c"], ready: true };
      expect(await access.exec(pod, "c", ["sh", "3"], 5000)).toEqual({ code: 3, stdout: "ran sh 3", stderr: "warn" });
      expect((await access.exec(pod, "c", ["sh", "0"], 5000)).code).toBe(0);
      const big = await access.exec(pod, "c", ["big"], 10_000);
      expect(big.stdout.length).toBeLessThan((1 << 20) + 100);
      expect(big.stdout).toMatch(/\[2097152 more bytes not kept\]$/);
    } finally {
      await api.close();
    }
  });
});
