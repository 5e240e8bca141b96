// Kubernetes YAML (one or more documents, or a List) -> typed objects by kind. Each bad document is
// reported on its own with where it came from; the others are kept. Used by file discovery, by
// `ambientctl local apply`, and by the translation golden tests.
import { parseAllDocuments } from "yaml";
import { emptySnapshot, KINDS, type AnyObject, type ClusterSnapshot, type Kind } from "./kube.ts";

export interface ManifestError {
  source: string;
  reason: string;
}

export interface ParsedManifests {
  objects: Array<{ kind: Kind; object: AnyObject }>;
  errors: ManifestError[];
}

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function parseManifests(text: string, source = "<input>"): ParsedManifests {
  const out: ParsedManifests = { objects: [], errors: [] };
  const docs = parseAllDocuments(text);
  for (const [i, doc] of docs.entries()) {
    const where = `${source} document ${i + 1}`;
    if (doc.errors.length) {
      out.errors.push({ source: where, reason: `not valid YAML: ${doc.errors[0]!.message}` });
      continue;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const items = isRecord(value) && value.kind === "List" && Array.isArray(value.items) ? (value.items as unknown[]) : [value];
    for (const [j, item] of items.entries()) add(item, items.length > 1 ? `${where} item ${j + 1}` : where, out);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function add(item: unknown, where: string, out: ParsedManifests): void {
  if (!isRecord(item)) return void out.errors.push({ source: where, reason: "a Kubernetes object must be a mapping" });
  const kind = item.kind;
  const meta = item.metadata;
  const problems: string[] = [];
  if (typeof kind !== "string" || !(kind in KINDS)) problems.push(`kind ${JSON.stringify(kind)} is not one of ${Object.keys(KINDS).join(", ")}`);
  if (!isRecord(meta) || typeof meta.name !== "string" || !NAME_RE.test(meta.name)) problems.push("metadata.name must be a lowercase DNS name");
  if (problems.length) {
    const label = isRecord(meta) && typeof meta.name === "string" ? ` (${String(kind)} ${meta.name})` : "";
    return void out.errors.push({ source: `${where}${label}`, reason: problems.join("; ") });
  }
  const k = kind as Kind;
  const spec = KINDS[k];
  if (item.apiVersion !== spec.apiVersion) {
    return void out.errors.push({
      source: `${where} (${k} ${(meta as { name: string }).name})`,
      reason: `apiVersion must be ${spec.apiVersion}, got ${JSON.stringify(item.apiVersion)}`,
    });
  }
  const m = meta as Record<string, unknown>;
  if (spec.namespaced && (m.namespace === undefined || m.namespace === "")) m.namespace = "default";
  if (!spec.namespaced) delete m.namespace;
  out.objects.push({ kind: k, object: item as unknown as AnyObject });
}

/** A snapshot of the objects in YAML text; throws naming every document that fails (tests, tools). */
export function snapshotFromYaml(text: string): ClusterSnapshot {
  const parsed = parseManifests(text);
  if (parsed.errors.length) throw new Error(`manifests rejected: ${parsed.errors.map((e) => `${e.source}: ${e.reason}`).join("; ")}`);
  const snap = emptySnapshot() as { [K in keyof ClusterSnapshot]: unknown[] };
  for (const o of parsed.objects) snap[o.kind].push(o.object);
  return snap as unknown as ClusterSnapshot;
}
