/**
 * Fault injection for the crash tests (files/import-faults.test.ts): with `EDC_FAULT_AT=<point>` (or
 * `<point>:<n>`, the n-th time) in its environment, a process kills itself with SIGKILL when it reaches that point,
 * as a power cut or `kill -9` would, at a moment chosen exactly instead of by timing. Without the variable (always,
 * outside those tests) faultPoint does nothing. The points are listed where they are placed (IMPORT_FAULT_POINTS).
 */
let hits = 0;

export function faultPoint(point: string): void {
  const at = process.env.EDC_FAULT_AT;
  if (!at) return;
  const [name, nth] = at.split(':');
  if (name !== point) return;
  if (++hits >= (nth ? Number(nth) : 1)) process.kill(process.pid, 'SIGKILL');
}
