// What the kubelet would refuse, as checks on the objects we render (no kubelet runs here). Today: the
// non-root rule. With runAsNonRoot: true and no runAsUser, the kubelet reads the image's USER: a numeric
// non-zero uid passes, root fails ("container has runAsNonRoot and image will run as root"), and a user
// *name* fails too ("image has non-numeric user, cannot verify user is non-root"): the pod never starts
// (CreateContainerConfigError). So every image we run is listed here with the USER its config declares.
import type { KubeObject } from "./mesh.ts";

/**
 * The USER of each image's config ("" = unset, so root), by repository; tags where it changed matter and
 * are written out. Sources: each image's Dockerfile at that tag (mesh/Dockerfile for ours).
 */
export const IMAGE_USERS: ReadonlyArray<{ image: RegExp; user: string; source: string }> = [
  // go-httpbin became non-root (USER 65532) in v2.19; v2.18 and earlier run as root.
  { image: /^(docker\.io\/)?mccutchen\/go-httpbin:v2\.(1[0-8]|[0-9])\./, user: "", source: "go-httpbin Dockerfile before v2.19" },
  { image: /^(docker\.io\/)?curlimages\/curl:/, user: "curl_user", source: "curlimages/curl Dockerfile (USER curl_user, uid 100)" },
  { image: /^(docker\.io\/)?grafana\/k6:/, user: "k6", source: "grafana/k6 Dockerfile (USER k6, uid 12345)" },
  // Ours: mesh/Dockerfile's control-plane and waypoint targets say USER 1337:1337; ztunnel runs as root.
  { image: /(^|\/)(ambient-lab\/)?(control-plane|waypoint)[:@]/, user: "1337:1337", source: "mesh/Dockerfile" },
  { image: /(^|\/)(ambient-lab\/)?ztunnel[:@]/, user: "", source: "mesh/Dockerfile (installs nftables rules: root, NET_ADMIN)" },
];

export function imageUser(image: string): string | undefined {
  return IMAGE_USERS.find((x) => x.image.test(image))?.user;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
}
interface Container {
  name: string;
  image?: string;
  securityContext?: SecurityContext;
}
interface PodSpec {
  securityContext?: SecurityContext;
  containers?: Container[];
  initContainers?: Container[];
}

/** The pod spec of a Pod, or of a workload's pod template. */
function podSpecOf(o: KubeObject): PodSpec | undefined {
  const spec = (o as { spec?: Record<string, unknown> }).spec;
  if (!spec) return undefined;
  if (o.kind === "Pod") return spec as PodSpec;
  if (o.kind === "CronJob") return (spec.jobTemplate as { spec?: { template?: { spec?: PodSpec } } } | undefined)?.spec?.template?.spec;
  return (spec.template as { spec?: PodSpec } | undefined)?.spec;
}

/** Every container the kubelet would refuse to start under the non-root rule, with the kubelet's reason. */
export function nonRootProblems(objects: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    const where = `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot ?? false;
      const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
      if (!nonRoot) continue;
      if (uid !== undefined) {
        if (uid === 0) problems.push(`${where} container ${c.name}: runAsNonRoot with runAsUser 0`);
        continue;
      }
      const user = imageUser(String(c.image ?? ""));
      if (user === undefined) {
        problems.push(`${where} container ${c.name}: image ${c.image} is not in IMAGE_USERS; add its USER (or set runAsUser)`);
        continue;
      }
      const name = user.split(":")[0]!;
      if (name === "" || name === "0" || name === "root")
        problems.push(`${where} container ${c.name}: container has runAsNonRoot and image will run as root (${c.image}); set runAsUser`);
      else if (!/^\d+$/.test(name))
        problems.push(`${where} container ${c.name}: image has non-numeric user (${name}), cannot verify user is non-root (${c.image}); set runAsUser`);
    }
  }
  return problems;
}

/**
 * Containers without CPU and memory requests: the scheduler would pack them blindly onto three small
 * nodes (t3.medium: 2 vCPU, 4 GiB), and the benchmark's proxy figures would depend on luck.
 */
export function missingRequests(objects: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    const where = `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])] as Array<Container & { resources?: { requests?: Record<string, unknown> } }>) {
      const r = c.resources?.requests ?? {};
      if (r.cpu === undefined || r.memory === undefined) problems.push(`${where} container ${c.name}: resources.requests needs cpu and memory`);
    }
  }
  return problems;
}

/**
 * The API server's name rules: most objects need a DNS-1123 subdomain (lowercase alphanumerics, - and .,
 * at most 253), Namespaces and Services a DNS-1123 label (at most 63, no dots; a Service must also start
 * with a letter, DNS-1035), ConfigMap keys their own charset.
 */
export function nameProblems(objects: readonly KubeObject[]): string[] {
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  const problems: string[] = [];
  for (const o of objects) {
    const name = String(o.metadata?.name ?? "");
    const where = `${o.kind} ${name}`;
    if (o.kind === "Namespace" || o.kind === "Service") {
      if (!label.test(name) || name.length > 63) problems.push(`${where}: must be a DNS-1123 label (lowercase, digits, -, at most 63)`);
      if (o.kind === "Service" && !/^[a-z]/.test(name)) problems.push(`${where}: a Service name must start with a letter (DNS-1035)`);
    } else if (!subdomain.test(name) || name.length > 253) problems.push(`${where}: must be a DNS-1123 subdomain`);
    const ns = o.metadata?.namespace;
    if (ns !== undefined && (!label.test(ns) || ns.length > 63)) problems.push(`${where}: namespace "${ns}" is not a DNS-1123 label`);
    if (o.kind === "ConfigMap") {
      for (const key of Object.keys((o as { data?: Record<string, string> }).data ?? {}))
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) problems.push(`${where}: data key "${key}" is not a valid ConfigMap key`);
    }
  }
  return problems;
}

/**
 * Pod Security admission (the "restricted" profile's rules, kubernetes.io/docs/concepts/security/pod-security-standards)
 * for the namespaces we create: every one states its level; "privileged" only with a written reason; and
 * every pod in a "restricted" namespace passes: no host namespaces or hostPath, not privileged,
 * allowPrivilegeEscalation false, runAsNonRoot and no uid 0, capabilities drop ALL (add at most
 * NET_BIND_SERVICE), seccomp RuntimeDefault or Localhost.
 */
export function podSecurityProblems(objects: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  const level = new Map<string, string>();
  for (const o of objects.filter((x) => x.kind === "Namespace")) {
    const l = o.metadata.labels?.["pod-security.kubernetes.io/enforce"];
    if (!l) problems.push(`Namespace ${o.metadata.name}: no pod-security.kubernetes.io/enforce label`);
    else level.set(o.metadata.name, l);
    if (l === "privileged" && !o.metadata.annotations?.["ambient-lab.io/pod-security-reason"])
      problems.push(`Namespace ${o.metadata.name}: privileged without ambient-lab.io/pod-security-reason`);
  }
  for (const o of objects) {
    const pod = podSpecOf(o) as
      | (PodSpec & {
          hostNetwork?: boolean;
          hostPID?: boolean;
          hostIPC?: boolean;
          volumes?: Array<Record<string, unknown>>;
          securityContext?: SecurityContext & { seccompProfile?: { type?: string } };
        })
      | undefined;
    const ns = o.metadata?.namespace;
    if (!pod || !ns || level.get(ns) !== "restricted") continue;
    const where = `${o.kind} ${ns}/${o.metadata.name}`;
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: host namespaces`);
    for (const v of pod.volumes ?? []) if ("hostPath" in v) problems.push(`${where}: hostPath volume ${String(v.name)}`);
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const sc = (c.securityContext ?? {}) as SecurityContext & {
        privileged?: boolean;
        allowPrivilegeEscalation?: boolean;
        capabilities?: { add?: string[]; drop?: string[] };
        seccompProfile?: { type?: string };
      };
      const bad = (what: string) => problems.push(`${where} container ${c.name}: ${what}`);
      if (sc.privileged) bad("privileged");
      if (sc.allowPrivilegeEscalation !== false) bad("allowPrivilegeEscalation must be false");
      if (!(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)) bad("runAsNonRoot must be true");
      if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) bad("runAsUser 0");
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) bad("capabilities must drop ALL");
      for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") bad(`capability ${cap}`);
      const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") bad("seccompProfile must be RuntimeDefault or Localhost");
    }
  }
  return problems;
}
