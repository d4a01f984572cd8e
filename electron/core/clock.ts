/**
 * The device's wall clock, with a test offset: `EDC_SYNC_TEST_CLOCK_OFFSET_MS` (a whole process, e.g. a laptop
 * whose clock is years off in a real-process test) or setTestClockOffset(store, ms) (one store in a test process).
 * Wall-clock times are recorded and announced, never used to order anything (order is producerSeq).
 */
const fromEnv = Number(process.env.EDC_SYNC_TEST_CLOCK_OFFSET_MS ?? 0);
const ENV_OFFSET = Number.isFinite(fromEnv) ? Math.trunc(fromEnv) : 0;
const offsets = new WeakMap<object, number>();

export function setTestClockOffset(owner: object, ms: number): void {
  offsets.set(owner, ms);
}

/** Now, by the clock of the device that owns `owner` (a Store). */
export function deviceNow(owner?: object): Date {
  const off = owner ? offsets.get(owner) ?? ENV_OFFSET : ENV_OFFSET;
  return new Date(Date.now() + off);
}

export function deviceNowIso(owner?: object): string {
  return deviceNow(owner).toISOString();
}
