// Which process of a local cluster: a typed key, and the stable name it is recorded under (the state
// file, `ambientctl local logs`, status). Built and read only here, not by string concatenation.
export type ProcessKey =
  | { kind: "control-plane" }
  | { kind: "prometheus" }
  | { kind: "ztunnel"; node: string }
  /** `pod` is "<namespace>/<name>". */
  | { kind: "waypoint"; pod: string }
  | { kind: "sidecar"; pod: string }
  | { kind: "app"; pod: string };

export const PROC = {
  controlPlane: { kind: "control-plane" } as ProcessKey,
  prometheus: { kind: "prometheus" } as ProcessKey,
  ztunnel: (node: string): ProcessKey => ({ kind: "ztunnel", node }),
  waypoint: (pod: string): ProcessKey => ({ kind: "waypoint", pod }),
  sidecar: (pod: string): ProcessKey => ({ kind: "sidecar", pod }),
  app: (pod: string): ProcessKey => ({ kind: "app", pod }),
};

export function processName(k: ProcessKey): string {
  switch (k.kind) {
    case "control-plane":
    case "prometheus":
      return k.kind;
    case "ztunnel":
      return `ztunnel/${k.node}`;
    default:
      return `${k.kind}/${k.pod}`;
  }
}

/** The key of a recorded name; undefined for a name no cluster writes. */
export function parseProcessName(name: string): ProcessKey | undefined {
  if (name === "control-plane" || name === "prometheus") return { kind: name };
  const m = /^(ztunnel|waypoint|sidecar|app)\/(.+)$/.exec(name);
  if (!m) return undefined;
  if (m[1] === "ztunnel") return /^[^/]+$/.test(m[2]!) ? { kind: "ztunnel", node: m[2]! } : undefined;
  return /^[^/]+\/[^/]+$/.test(m[2]!) ? { kind: m[1] as "waypoint" | "sidecar" | "app", pod: m[2]! } : undefined;
}

/**
 * What a user types for `ambientctl local logs`: control-plane, prometheus, ztunnel/<node>,
 * waypoint/<ns>/<pod>, sidecar/<ns>/<pod>, or <ns>/<pod> for the application.
 */
export function componentKey(component: string): ProcessKey | undefined {
  return parseProcessName(component) ?? (/^[^/]+\/[^/]+$/.test(component) ? PROC.app(component) : undefined);
}

/** The name users see for a recorded process (the application's without its "app/" prefix). */
export function componentName(name: string): string {
  const k = parseProcessName(name);
  return k?.kind === "app" ? k.pod : name;
}

/** The file, in the cluster's logs directory, a process writes to. */
export function logFileName(k: ProcessKey): string {
  switch (k.kind) {
    case "control-plane":
    case "prometheus":
      return `${k.kind}.log`;
    case "ztunnel":
      return `ztunnel-${k.node}.log`;
    default:
      return `${k.kind}-${k.pod.replace("/", "-")}.log`;
  }
}
