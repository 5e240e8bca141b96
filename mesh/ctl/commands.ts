// ambientctl's commands for a real cluster, through the kubeconfig: `verify` and `ztunnel-config`.
import { describeError, DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import { parseArgsOrUsage, UsageError } from "../shared/index.ts";
import { clientNodeAccess, loadKubeConfig, type KubeAccess } from "./kube-access.ts";
import { renderCheck, renderChecks, Verifier, VERIFY_DEFAULTS, VERIFY_POLICY_NAME } from "./verify.ts";
import { chooseZtunnel, fetchZtunnelDump, renderZtunnelConfig, ZTUNNEL_CONFIG_KINDS, type ZtunnelConfigKind } from "./ztunnel-config.ts";

export const CTL_USAGE = `ambientctl verify [--namespace NS]... [--skip-policy] [--policy-timeout S]
                               check a running mesh: sleep calls httpbin in each sample namespace, the
                               destination proxy counts the connection as mutual TLS between both SPIFFE
                               identities, and a DENY AuthorizationPolicy (${VERIFY_POLICY_NAME}) is enforced,
                               then removed; exits 1 naming what failed
ambientctl ztunnel-config workloads|services|policies|certificates|all [--node N] [-o table|json]
                               what a ztunnel holds (its admin /config_dump, by port-forward to :15000);
                               --node picks the ztunnel on that node (default: the first ready one)

  both take [--kubeconfig F] [--context C] [--istio-namespace istio-system]; verify also
  [--trust-domain cluster.local]
`;

const KUBE_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "istio-namespace": { type: "string", default: "istio-system" },
  help: { type: "boolean", short: "h", default: false },
} as const;

export interface CtlDeps {
  out: (s: string) => void;
  err: (s: string) => void;
  /** How to reach the cluster; default: the kubeconfig. */
  access?: (opts: { kubeconfig?: string; context?: string }) => KubeAccess;
  onInterrupt?: (handler: () => void) => () => void;
}

const defaultAccess = (o: { kubeconfig?: string; context?: string }) => clientNodeAccess(loadKubeConfig(o));

function onSigint(handler: () => void): () => void {
  process.once("SIGINT", handler);
  return () => process.off("SIGINT", handler);
}

export async function verifyCommand(args: string[], deps: CtlDeps): Promise<number> {
  const { values } = parseArgsOrUsage(
    {
      args,
      options: {
        ...KUBE_OPTIONS,
        namespace: { type: "string", short: "n", multiple: true },
        "skip-policy": { type: "boolean", default: false },
        "policy-timeout": { type: "string", default: "30" },
        "trust-domain": { type: "string", default: DEFAULT_TRUST_DOMAIN },
      },
    },
    CTL_USAGE,
  );
  if (values.help) return (void deps.out(CTL_USAGE), 0);
  const timeout = Number(values["policy-timeout"]);
  if (!(timeout > 0)) throw new UsageError(`--policy-timeout takes seconds (> 0); got "${values["policy-timeout"]}"`);
  const access = (deps.access ?? defaultAccess)({ kubeconfig: values.kubeconfig, context: values.context });
  deps.err(`verifying the mesh at ${access.server}\n`);
  const verifier = new Verifier(access, {
    ...VERIFY_DEFAULTS,
    ztunnel: { namespace: values["istio-namespace"], selector: "app=ztunnel" },
    trustDomain: values["trust-domain"],
    policyTimeoutMs: timeout * 1000,
    skipPolicy: values["skip-policy"],
    ...(values.namespace ? { namespaces: values.namespace } : {}),
    onCheck: (c) => deps.out(renderCheck(c)),
  });
  // Ctrl-C while the DENY policy is in place: remove it before going.
  const off = (deps.onInterrupt ?? onSigint)(() => {
    const ref = verifier.pendingPolicy;
    const done = () => process.exit(130);
    if (!ref) return done();
    deps.err(`interrupted: deleting ${ref.namespace}/${ref.name}\n`);
    access.deleteCustom(ref).then(done, (err: unknown) => {
      deps.err(`could not delete it (${describeError(err)}): kubectl delete authorizationpolicy -n ${ref.namespace} ${ref.name}\n`);
      done();
    });
  });
  try {
    const checks = await verifier.run();
    const summary = renderChecks(checks);
    deps.out(summary);
    return checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    off();
  }
}

export async function ztunnelConfigCommand(args: string[], deps: CtlDeps): Promise<number> {
  const { values, positionals } = parseArgsOrUsage(
    { args, allowPositionals: true, options: { ...KUBE_OPTIONS, node: { type: "string" }, output: { type: "string", short: "o", default: "table" } } },
    CTL_USAGE,
  );
  if (values.help) return (void deps.out(CTL_USAGE), 0);
  const kind = positionals[0];
  const kinds = [...ZTUNNEL_CONFIG_KINDS, "all"];
  if (!kind || !kinds.includes(kind) || positionals.length > 1)
    throw new UsageError(`ztunnel-config takes one of ${kinds.join(", ")}${kind ? `; got "${positionals.join(" ")}"` : ""}\n\n${CTL_USAGE}`);
  if (values.output !== "table" && values.output !== "json") throw new UsageError(`-o takes table or json; got "${values.output}"`);
  const access = (deps.access ?? defaultAccess)({ kubeconfig: values.kubeconfig, context: values.context });
  const pod = await chooseZtunnel(access, values.node, { namespace: values["istio-namespace"], selector: "app=ztunnel" });
  const dump = await fetchZtunnelDump(access, pod);
  const chosen = kind === "all" ? ZTUNNEL_CONFIG_KINDS : [kind as ZtunnelConfigKind];
  if (values.output === "json") {
    deps.out(JSON.stringify(kind === "all" ? dump : dump[kind as ZtunnelConfigKind], null, 2) + "\n");
    return 0;
  }
  deps.err(`ztunnel ${pod.name} on node ${pod.node}${values.node ? "" : " (--node picks another)"}\n`);
  deps.out(chosen.map((k) => (chosen.length > 1 ? `${k.toUpperCase()}\n` : "") + renderZtunnelConfig(dump, k)).join("\n"));
  return 0;
}
