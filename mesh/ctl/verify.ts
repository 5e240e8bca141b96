// `ambientctl verify`: checks a running mesh as a user would, through the Kubernetes API only.
// In each sample namespace sleep calls httpbin; where the mesh carries that traffic (ambient, waypoint,
// sidecar) the destination proxy's metrics must show the connection as mutual TLS between the two
// SPIFFE identities; then a DENY AuthorizationPolicy must stop the call and its removal restore it.
import { ErrorCode, MeshError, describeError, DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import { formatIdentity } from "../shared/index.ts";
import type { CustomRef, KubeAccess, PodRef } from "./kube-access.ts";
import { parseSamples, sumWhere } from "../shared/index.ts";
import { chooseZtunnel, DEFAULT_ZTUNNEL_TARGET, type ZtunnelTarget } from "./ztunnel-config.ts";
import { LABELS } from "../api/index.ts";

export type SampleMode = "ambient" | "waypoint" | "sidecar" | "none";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyOptions {
  /** Sample namespaces to check; default: the lab's namespaces that have a sleep and an httpbin pod. */
  namespaces?: string[];
  trustDomain: string;
  ztunnel: ZtunnelTarget;
  /** How long a policy change may take to be enforced (and undone). */
  policyTimeoutMs: number;
  /** Skip the DENY policy step (it changes the cluster for a few seconds). */
  skipPolicy?: boolean;
  /** Told each check as it finishes (progress). */
  onCheck?: (c: Check) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const VERIFY_DEFAULTS: VerifyOptions = { trustDomain: DEFAULT_TRUST_DOMAIN, ztunnel: DEFAULT_ZTUNNEL_TARGET, policyTimeoutMs: 30_000 };

export const VERIFY_POLICY_NAME = "ambientctl-verify-deny";
const METRICS_PORT = 15020;
const SIDECAR_LABEL = LABELS.proxy;
const OPENED = "istio_tcp_connections_opened_total";

interface Sample {
  namespace: string;
  mode: SampleMode;
  sleep: PodRef;
  httpbin: PodRef;
}

/** How a namespace's traffic is carried, from its labels and its httpbin pod's (an injected sidecar). */
export function sampleMode(nsLabels: Record<string, string>, httpbin: PodRef): SampleMode {
  if (httpbin.labels[SIDECAR_LABEL] === "sidecar" || httpbin.labels["security.istio.io/tlsMode"] === "istio") return "sidecar";
  if (nsLabels[LABELS.dataplaneMode] === "ambient") return nsLabels[LABELS.useWaypoint] ? "waypoint" : "ambient";
  return "none";
}

/** The command sleep runs: prints the HTTP status, or 000 when the connection fails. */
export function callCommand(namespace: string): string[] {
  return ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", `http://httpbin.${namespace}:8000/get`];
}

export function denyPolicy(namespace: string, sourcePrincipal: string): { ref: CustomRef; body: object } {
  const ref = { group: "security.istio.io", version: "v1", plural: "authorizationpolicies", namespace, name: VERIFY_POLICY_NAME };
  return {
    ref,
    body: {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: VERIFY_POLICY_NAME, namespace, labels: { "app.kubernetes.io/managed-by": "ambientctl" } },
      spec: { action: "DENY", rules: [{ from: [{ source: { principals: [sourcePrincipal] } }] }] },
    },
  };
}

export class Verifier {
  readonly checks: Check[] = [];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** The policy verify created and has not yet removed (for an interrupted run). */
  pendingPolicy: CustomRef | undefined;

  private readonly access: KubeAccess;
  private readonly opts: VerifyOptions;

  constructor(access: KubeAccess, opts: VerifyOptions) {
    this.access = access;
    this.opts = opts;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? Date.now;
  }

  private record(name: string, ok: boolean, detail: string): boolean {
    const c = { name, ok, detail };
    this.checks.push(c);
    this.opts.onCheck?.(c);
    return ok;
  }

  private identity(pod: PodRef): string {
    return formatIdentity({ trustDomain: this.opts.trustDomain, namespace: pod.namespace, serviceAccount: pod.serviceAccount });
  }

  /** Runs every check; never throws for a failed check (the result says), only for a broken API. */
  async run(): Promise<Check[]> {
    const ztunnels = await this.access.pods(this.opts.ztunnel.namespace, this.opts.ztunnel.selector);
    const notReady = ztunnels.filter((z) => !z.ready).map((z) => `${z.name} on ${z.node}`);
    this.record(
      "ztunnels ready",
      ztunnels.length > 0 && notReady.length === 0,
      ztunnels.length === 0
        ? `no pods ${this.opts.ztunnel.selector} in ${this.opts.ztunnel.namespace}`
        : notReady.length
          ? `not ready: ${notReady.join(", ")}`
          : `${ztunnels.length} on ${ztunnels.map((z) => z.node).join(", ")}`,
    );

    const samples = await this.samples();
    if (samples.length === 0) {
      this.record(
        "sample namespaces",
        false,
        "no namespace has both a ready sleep and httpbin pod (app=sleep, app=httpbin); deploy the samples or name them with --namespace",
      );
      return this.checks;
    }
    for (const s of samples) await this.checkSample(s);
    const target = samples.find((s) => s.mode === "ambient") ?? samples.find((s) => s.mode === "sidecar");
    if (!this.opts.skipPolicy) {
      if (target) await this.checkPolicy(target);
      else this.record("DENY policy", false, "no ambient or sidecar sample namespace to try a policy in");
    }
    return this.checks;
  }

  private async samples(): Promise<Sample[]> {
    const all = await this.access.namespaces();
    const out: Sample[] = [];
    // By default the lab's own namespaces (the samples carry the part-of label), not the whole cluster.
    const ours = all.filter((n) => n.labels["app.kubernetes.io/part-of"] === "ambient-lab").map((n) => n.name);
    for (const name of this.opts.namespaces ?? ours) {
      const labels = all.find((n) => n.name === name)?.labels;
      if (labels === undefined) {
        this.record(`namespace ${name}`, false, "does not exist");
        continue;
      }
      const ns = { name };
      const [sleep, httpbin] = await Promise.all([this.access.pods(ns.name, "app=sleep"), this.access.pods(ns.name, "app=httpbin")]);
      const s = sleep.find((p) => p.ready);
      const h = httpbin.find((p) => p.ready);
      if (!s || !h) {
        if (this.opts.namespaces)
          this.record(`namespace ${ns.name}`, false, `needs a ready sleep and httpbin pod (found ${sleep.length} sleep, ${httpbin.length} httpbin)`);
        continue;
      }
      out.push({ namespace: ns.name, mode: sampleMode(labels, h), sleep: s, httpbin: h });
    }
    return out.sort((a, b) => a.namespace.localeCompare(b.namespace));
  }

  /** One call from sleep to httpbin: the HTTP status ("000" when the connection failed). */
  private async call(s: Sample): Promise<string> {
    const container = s.sleep.containers.includes("sleep") ? "sleep" : s.sleep.containers[0]!;
    const r = await this.access.exec(s.sleep, container, callCommand(s.namespace), 15_000);
    const code = r.stdout.trim().slice(-3);
    return /^\d{3}$/.test(code) ? code : `000 (curl exit ${r.code}: ${r.stderr.trim().slice(0, 200)})`;
  }

  /** The proxy that reports the destination side of a sample's traffic, and its metrics. */
  private async destinationMetrics(s: Sample): Promise<{ where: string; text: string }> {
    const pod = s.mode === "sidecar" ? s.httpbin : await chooseZtunnel(this.access, s.httpbin.node, this.opts.ztunnel);
    const r = await this.access.httpGet(pod, METRICS_PORT, "/metrics", 10_000);
    if (r.status !== 200) throw new MeshError(ErrorCode.Kube, `${pod.namespace}/${pod.name}: /metrics answered HTTP ${r.status}`);
    return { where: `${pod.namespace}/${pod.name}`, text: r.body };
  }

  private async checkSample(s: Sample): Promise<void> {
    const meshed = s.mode !== "none";
    const labels: Record<string, string> = { reporter: "destination", destination_principal: this.identity(s.httpbin) };
    // Through a waypoint the destination sees the waypoint's identity, not sleep's.
    if (s.mode !== "waypoint") labels.source_principal = this.identity(s.sleep);
    let before = 0;
    try {
      if (meshed) before = sumWhere(parseSamples((await this.destinationMetrics(s)).text), OPENED, { ...labels, connection_security_policy: "mutual_tls" });
    } catch (err) {
      this.record(`${s.namespace}: metrics`, false, describeError(err));
      return;
    }
    let status = await this.call(s);
    for (let i = 0; i < 4 && status !== "200"; i++) {
      await this.sleep(1000);
      status = await this.call(s);
    }
    const called = this.record(`${s.namespace} (${s.mode}): sleep calls httpbin`, status === "200", `HTTP ${status}`);
    if (!meshed || !called) return;
    try {
      const m = await this.destinationMetrics(s);
      const samples = parseSamples(m.text);
      const after = sumWhere(samples, OPENED, { ...labels, connection_security_policy: "mutual_tls" });
      const plain = sumWhere(samples, OPENED, { ...labels, connection_security_policy: "none" });
      const who = s.mode === "waypoint" ? `to ${labels.destination_principal}` : `${labels.source_principal} -> ${labels.destination_principal}`;
      this.record(
        `${s.namespace} (${s.mode}): mutual TLS`,
        after > before,
        after > before
          ? `${m.where} counted ${after - before} mutual_tls connection(s) ${who}`
          : `${m.where} counted no new mutual_tls connection ${who} (plaintext: ${plain})`,
      );
    } catch (err) {
      this.record(`${s.namespace} (${s.mode}): mutual TLS`, false, describeError(err));
    }
  }

  /** Polls the call until `want(status)` or the timeout; the seconds it took, or undefined. */
  private async until(s: Sample, want: (status: string) => boolean): Promise<{ seconds?: number; last: string }> {
    const start = this.now();
    let last = "";
    while (this.now() - start <= this.opts.policyTimeoutMs) {
      last = await this.call(s);
      if (want(last)) return { seconds: (this.now() - start) / 1000, last };
      await this.sleep(500);
    }
    return { last };
  }

  private async checkPolicy(s: Sample): Promise<void> {
    const principal = this.identity(s.sleep).replace(/^spiffe:\/\//, "");
    const { ref, body } = denyPolicy(s.namespace, principal);
    await this.access.deleteCustom(ref); // left over from an interrupted run
    await this.access.createCustom(ref, body);
    this.pendingPolicy = ref;
    try {
      const denied = await this.until(s, (st) => st !== "200");
      this.record(
        `${s.namespace}: DENY ${principal} enforced`,
        denied.seconds !== undefined,
        denied.seconds !== undefined
          ? `call refused (${denied.last}) after ${denied.seconds.toFixed(1)} s`
          : `calls still succeed after ${this.opts.policyTimeoutMs / 1000} s`,
      );
    } finally {
      await this.access.deleteCustom(ref);
      this.pendingPolicy = undefined;
    }
    const back = await this.until(s, (st) => st === "200");
    this.record(
      `${s.namespace}: DENY removed`,
      back.seconds !== undefined,
      back.seconds !== undefined
        ? `calls succeed again after ${back.seconds.toFixed(1)} s`
        : `calls still fail (${back.last}) ${this.opts.policyTimeoutMs / 1000} s after the policy was deleted`,
    );
  }
}

export function renderChecks(checks: readonly Check[]): string {
  const failed = checks.filter((c) => !c.ok).length;
  return `${checks.length} checks, ${failed} failed${
    failed
      ? ":\n" +
        checks
          .filter((c) => !c.ok)
          .map((c) => `  ${c.name}: ${c.detail}`)
          .join("\n")
      : ""
  }\n`;
}

export function renderCheck(c: Check): string {
  return `${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}\n`;
}
