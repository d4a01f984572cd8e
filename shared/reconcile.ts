/** Scanned barcodes against the expected requisitions: each code once, in scan order; unknown codes are unexpected. */
export function reconcile(expected: readonly string[], scanned: readonly string[]): { matched: string[]; missing: string[]; unexpected: string[] } {
  const want = new Set(expected);
  const matched: string[] = [];
  const unexpected: string[] = [];
  const seen = new Set<string>();
  for (const code of scanned) {
    if (seen.has(code)) continue;
    seen.add(code);
    (want.has(code) ? matched : unexpected).push(code);
  }
  return { matched, missing: expected.filter((e) => !seen.has(e)), unexpected };
}
