/**
 * The bench's realistic workload: deterministic (seeded PRNG) follow-up CRF records of about 1 KB each (subject
 * identifier, visit code, report datetime, ~20 mixed fields, a free-text comment and 2 PII fields), N creates then
 * N/5 updates of randomly chosen records, 4 fields changed each. The same sequence feeds the write path and the floor.
 */
import { ART_REGIMENS, VISIT_CODES, type ModelInput } from '../shared/domain.ts';

export type FollowUp = ModelInput<'edc.follow_up'>;

/** mulberry32: small, fast, good enough for test data; the same seed gives the same workload everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('patient reports feeling well since the last visit no new complaints adherence counselling given '
  + 'reminded about next appointment mild headache resolved without treatment partner tested referred to clinic for '
  + 'review of blood pressure collected medication refill discussed nutrition and exercise side effects none reported')
  .split(' ');

export interface Workload {
  creates: number;
  updates: number;
  /** The i-th create (0-based). */
  create(i: number): FollowUp;
  /** The j-th update: which create it changes and the 4 changed fields. */
  update(j: number): { index: number; patch: Partial<FollowUp> };
}

/** Record i is generated from its own PRNG stream: any record on demand, nothing held in memory (N = 1M). */
function generator(seed: number) {
  let rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const dec = (lo: number, hi: number) => Math.round((lo + rnd() * (hi - lo)) * 10) / 10;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const date = (y: number) => `${y}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
  const text = (words: number) => Array.from({ length: words }, () => pick(WORDS)).join(' ');
  const stream = (k: number) => { rnd = prng(Math.imul(seed, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)); };
  return { stream, int, dec, pick, date, text };
}

export function workload(n: number, seed = 16): Workload {
  const g = generator(seed);
  const { int, dec, pick, date, text } = g;
  const create = (i: number): FollowUp => {
    g.stream(i);
    const subject = Math.floor(i / VISIT_CODES.length);
    const female = int(0, 1) === 1;
    const onArt = pick(['yes', 'yes', 'yes', 'no', 'unknown'] as const);
    return {
      subjectIdentifier: `S01-RA01-${String(subject).padStart(7, '0')}`,
      visitCode: VISIT_CODES[i % VISIT_CODES.length]!,
      reportDatetime: `2026-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}T${String(int(6, 17)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}:00.000Z`,
      weightKg: dec(40, 120), heightCm: dec(140, 200), systolic: int(90, 180), diastolic: int(50, 110), pulse: int(50, 120),
      temperatureC: dec(35.5, 39.5), respiratoryRate: int(10, 30), haemoglobin: dec(7, 17), cd4Count: int(50, 1500), viralLoad: int(0, 500_000),
      onArt, artRegimen: onArt === 'yes' ? pick(ART_REGIMENS) : null, adherence: onArt === 'yes' ? pick(['good', 'good', 'fair', 'poor'] as const) : 'not_applicable',
      missedDoses: onArt === 'yes' ? int(0, 10) : null, tbSymptoms: pick(['none', 'none', 'none', 'cough', 'fever', 'night_sweats', 'weight_loss'] as const),
      pregnancyStatus: female ? pick(['yes', 'no', 'no', 'no'] as const) : 'not_applicable', smoking: pick(['never', 'never', 'former', 'current'] as const),
      lastMenstrualDate: female ? date(2026) : null, nextAppointmentDate: date(2027), comment: text(int(30, 60)),
      contactName: `${pick(['Thandi', 'Lerato', 'Sipho', 'Kagiso', 'Naledi', 'Tumelo', 'Zanele', 'Bongani'])} ${pick(['Dlamini', 'Mokoena', 'Nkosi', 'Khumalo', 'Molefe', 'Mthembu'])}`,
      contactPhone: `+27 ${int(60, 84)} ${int(100, 999)} ${int(1000, 9999)}`,
    };
  };
  const update = (j: number) => {
    g.stream(n + j);
    return { index: int(0, n - 1), patch: { weightKg: dec(40, 120), systolic: int(90, 180), cd4Count: int(50, 1500), comment: text(int(30, 60)) } };
  };
  return { creates: n, updates: Math.floor(n / 5), create, update };
}
