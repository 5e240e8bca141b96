// Ordinal string comparison for sorting: deterministic across locales and much cheaper than localeCompare.
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
