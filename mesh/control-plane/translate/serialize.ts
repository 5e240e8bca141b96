// Translation output as plain data (Maps become objects), for golden files and config dumps.
import { stringify } from "yaml";
import type { Translation } from "./index.ts";

export function toPlain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), toPlain(v)]));
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === "object") {
    // In a policy match an empty field means "no constraint": leave it out so the golden files stay readable.
    const isMatch = "notDestinationPorts" in value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => !(isMatch && Array.isArray(v) && v.length === 0))
        .map(([k, v]) => [k, toPlain(v)]),
    );
  }
  return value;
}

export function translationToYaml(t: Translation): string {
  return stringify(toPlain(t), { sortMapEntries: false, lineWidth: 0 });
}
