// Pure: one container of a pod template -> the process the single-machine cluster's kubelet starts:
// command (the image's ENTRYPOINT, or the container's command), environment (values and the downward
// API's fields), user (securityContext, else the image's USER), and the files its volumes project.
// There is no mount namespace per container here, so a path under a volume's mountPath (in env values
// and args) is rewritten to the directory that holds that volume's files for this pod.
import { ErrorCode, MeshError } from "../shared/index.ts";

type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } & Record<string, unknown> };
type Mount = { name: string; mountPath: string; readOnly?: boolean; subPath?: string };
type Volume = {
  name: string;
  projected?: { sources: Array<{ serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string } } & Record<string, unknown>> };
  configMap?: { name: string; items?: unknown };
} & Record<string, unknown>;
type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: Mount[];
  securityContext?: { runAsUser?: number };
  readinessProbe?: { httpGet?: { path?: string; port: number | string } };
};

export interface PodTemplateLike {
  spec: Record<string, unknown> & { containers: unknown[]; initContainers?: unknown[]; volumes?: unknown[] };
}

/** What the kubelet knows of the pod: the downward API's fields. */
export interface PodFields {
  namespace: string;
  name: string;
  nodeName: string;
  podIP: string;
}

export interface PodProcessContext {
  pod: PodFields;
  /** The image's ENTRYPOINT and USER, with its program located on this machine. */
  /** An image's entrypoint, user and ENV (the container's env overrides ENV, as a container runtime does). */
  image: (ref: string) => { argv: string[]; user?: number; env?: Record<string, string> };
  /** The directory holding volume `name`'s files for this pod. */
  volumeDir: (volume: string) => string;
  /** The keys a ConfigMap has (each becomes a file), or undefined if it does not exist. */
  configMapKeys: (name: string) => string[] | undefined;
}

/** A file a volume projects; the kubelet writes it, owned by the container's user. */
export type ProjectedFile =
  | { path: string; kind: "serviceAccountToken"; serviceAccount: string; audience: string; expirationSeconds: number }
  | { path: string; kind: "configMap"; configMap: string; key: string };

export interface PodProcess {
  argv: string[];
  env: Record<string, string>;
  /** uid to run as; 0 is root. */
  user: number;
  files: ProjectedFile[];
  /** The readinessProbe's HTTP GET, which the kubelet sends to the pod's IP. */
  readiness?: { path: string; port: number };
}

const FIELDS: Record<string, (p: PodFields, sa: string) => string> = {
  "metadata.name": (p) => p.name,
  "metadata.namespace": (p) => p.namespace,
  "spec.nodeName": (p) => p.nodeName,
  "spec.serviceAccountName": (_p, sa) => sa,
  "status.podIP": (p) => p.podIP,
};

export function podProcess(template: PodTemplateLike, containerName: string, ctx: PodProcessContext): PodProcess {
  const spec = template.spec;
  const where = `${ctx.pod.namespace}/${ctx.pod.name} container ${containerName}`;
  const fail = (what: string) => new MeshError(ErrorCode.Config, `${where}: ${what}`);
  const containers = [...((spec.initContainers ?? []) as Container[]), ...(spec.containers as Container[])];
  const c = containers.find((x) => x.name === containerName);
  if (!c) throw fail(`no such container; the pod has ${containers.map((x) => x.name).join(", ")}`);
  const sa = typeof spec.serviceAccountName === "string" ? spec.serviceAccountName : "default";

  const volumes = new Map(((spec.volumes ?? []) as Volume[]).map((v) => [v.name, v]));
  const mounts: Array<{ mountPath: string; dir: string }> = [];
  const files: ProjectedFile[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) throw fail(`volumeMount ${m.name} names no volume of the pod`);
    if (m.subPath) throw fail(`volumeMount ${m.name}: subPath is not supported here`);
    const dir = ctx.volumeDir(m.name);
    mounts.push({ mountPath: m.mountPath.replace(/\/+$/, ""), dir });
    files.push(...volumeFiles(v, dir, sa, ctx, fail));
  }
  const localPath = (value: string) => {
    const m = mounts.find((x) => value === x.mountPath || value.startsWith(`${x.mountPath}/`));
    return m ? m.dir + value.slice(m.mountPath.length) : value;
  };

  const image = ctx.image(c.image);
  const env: Record<string, string> = { ...image.env };
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = localPath(e.value);
    else if (e.valueFrom?.fieldRef) {
      const field = FIELDS[e.valueFrom.fieldRef.fieldPath];
      if (!field) throw fail(`env ${e.name}: fieldRef ${e.valueFrom.fieldRef.fieldPath} is not one of ${Object.keys(FIELDS).join(", ")}`);
      env[e.name] = field(ctx.pod, sa);
    } else if (e.valueFrom) throw fail(`env ${e.name}: only value and fieldRef are supported here`);
    else env[e.name] = "";
  }

  const argv = [...(c.command ?? image.argv), ...(c.args ?? [])].map(localPath);
  const podUser = (spec.securityContext as { runAsUser?: number } | undefined)?.runAsUser;
  const probe = c.readinessProbe?.httpGet;
  if (probe && typeof probe.port !== "number") throw fail("readinessProbe: only a numeric port is supported here");
  return {
    argv,
    env,
    user: c.securityContext?.runAsUser ?? podUser ?? image.user ?? 0,
    files,
    ...(probe ? { readiness: { path: probe.path ?? "/", port: probe.port as number } } : {}),
  };
}

function volumeFiles(v: Volume, dir: string, sa: string, ctx: PodProcessContext, fail: (w: string) => Error): ProjectedFile[] {
  if (v.projected) {
    return v.projected.sources.map((s) => {
      const t = s.serviceAccountToken;
      if (!t) throw fail(`volume ${v.name}: only serviceAccountToken projections are supported here`);
      return {
        path: `${dir}/${t.path}`,
        kind: "serviceAccountToken" as const,
        serviceAccount: sa,
        audience: t.audience ?? "",
        expirationSeconds: t.expirationSeconds ?? 3600,
      };
    });
  }
  if (v.configMap) {
    if (v.configMap.items) throw fail(`volume ${v.name}: configMap items are not supported here`);
    const keys = ctx.configMapKeys(v.configMap.name);
    if (!keys) throw fail(`volume ${v.name}: ConfigMap ${v.configMap.name} does not exist in namespace ${ctx.pod.namespace}`);
    return keys.map((key) => ({ path: `${dir}/${key}`, kind: "configMap" as const, configMap: v.configMap!.name, key }));
  }
  throw fail(`volume ${v.name}: only projected service-account tokens and ConfigMaps are supported here`);
}
