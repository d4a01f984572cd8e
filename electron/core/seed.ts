/**
 * Realistic demo data through the normal write path: subjects with PII, consent, visits, two CRFs, specimen
 * requisitions, and some corrections (updates) and deletes, as field work produces them. Deterministic per
 * (deviceId, seed), different across devices.
 */
import { PANELS, VISIT_CODES } from '../../shared/domain.ts';
import { Study } from './domain/study.ts';
import { shaped } from './db/typed.ts';
import { countRow } from './row-shapes.ts';
import type { Store } from './store.ts';
import type { Actor } from './write-path.ts';

const FIRST = ['Kagiso', 'Neo', 'Lesego', 'Tumelo', 'Onalenna', 'Boitumelo', 'Kefilwe', 'Mpho', 'Thato', 'Masego', 'Amogelang', 'Refilwe', 'Tshepo', 'Goitseone', 'Naledi', 'Oratile', 'Kabelo', 'Dineo', 'Lorato', 'Bakang'];
const LAST = ['Molefe', 'Kgosi', 'Seretse', 'Mogapi', 'Ramotswe', 'Dikgang', 'Motsumi', 'Ntshole', 'Phiri', 'Sebina', 'Tau', 'Mothibi', 'Kebonang', 'Modise', 'Gaolathe', 'Letsholo', 'Mokgadi', 'Rapula', 'Segokgo', 'Tlhalerwa'];

export interface SeedResult {
  subjects: number;
  changes: number;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function seed(store: Store, subjects: number, opts: { seed?: number; actor?: Actor; onProgress?: (p: { done: number; total: number }) => void } = {}): SeedResult {
  const rnd = prng(hashString(store.deviceId) ^ (opts.seed ?? 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const actor = opts.actor ?? { user: `ra.${store.deviceId}` };
  const study = new Study(store);
  const w = study.write;
  const before = shaped(store.sql, countRow, 'SELECT count(*) AS n FROM audit_history').get()!.n;
  const start = Date.UTC(2026, 0, 5, 7, 0, 0);
  const BATCH = 50;
  for (let done = 0; done < subjects; done += BATCH) {
    w.batch(() => {
      for (let i = done; i < Math.min(subjects, done + BATCH); i++) {
        const day = start + i * 3_600_000 + int(0, 3_000_000);
        const at = (offsetMin: number) => new Date(day + offsetMin * 60_000).toISOString();
        const s = study.registerSubject({
          firstName: pick(FIRST), lastName: pick(LAST),
          dob: new Date(Date.UTC(int(1950, 2007), int(0, 11), int(1, 28))).toISOString().slice(0, 10),
          identityNumber: String(int(100_000_000, 999_999_999)),
          phone: rnd() < 0.85 ? `+267 7${int(1, 7)} ${int(100, 999)} ${int(100, 999)}` : null,
          gender: rnd() < 0.55 ? 'F' : 'M',
          registrationDatetime: at(0),
        }, actor);
        const subjectId = String(s.id);
        w.insert('edc.consent', { subjectId, version: '1.0', consentDatetime: at(5), isLiterate: rnd() < 0.8, language: pick(['en', 'tn']) }, actor);
        const visits = int(1, 3);
        for (let v = 0; v < visits; v++) {
          const visit = w.insert('edc.visit', { subjectId, visitCode: VISIT_CODES[v]!, visitCodeSequence: 0, visitDatetime: at(10 + v * 40_320), reason: 'scheduled' }, actor);
          const visitId = String(visit.id);
          const vitals = w.insert('edc.vital_signs', {
            visitId, weightKg: Math.round((45 + rnd() * 50) * 10) / 10, heightCm: int(145, 195), systolic: int(95, 170), diastolic: int(60, 105),
            temperatureC: Math.round((36 + rnd() * 1.8) * 10) / 10, oxygenSaturation: 94 + ((i + v) % 6),
          }, actor);
          w.insert('edc.medical_history', {
            visitId, hypertension: rnd() < 0.2, diabetes: rnd() < 0.08, hivStatus: pick(['positive', 'negative', 'negative', 'unknown'] as const),
            currentMedications: rnd() < 0.3 ? pick(['TLD', 'Amlodipine 5mg', 'Metformin 500mg', 'Cotrimoxazole']) : null,
          }, actor);
          if (rnd() < 0.2) w.update('edc.vital_signs', String(vitals.id), { weightKg: Math.round((45 + rnd() * 50) * 10) / 10 }, actor);
          const panels = Object.entries(PANELS);
          const nReq = v === 0 ? int(1, 3) : int(0, 1);
          for (let r = 0; r < nReq; r++) {
            const [panel, types] = panels[(i + r) % panels.length]!;
            const req = study.requisition({ visitId, panel, specimenType: types[0]!, drawnDatetime: at(20 + v * 40_320 + r), itemCount: int(1, 3) }, actor);
            if (rnd() < 0.05) w.delete('edc.specimen_requisition', String(req.id), actor);
          }
        }
        if (rnd() < 0.1) w.update('edc.subject', subjectId, { phone: `+267 7${int(1, 7)} ${int(100, 999)} ${int(100, 999)}` }, actor);
      }
    });
    opts.onProgress?.({ done: Math.min(subjects, done + BATCH), total: subjects });
  }
  const after = shaped(store.sql, countRow, 'SELECT count(*) AS n FROM audit_history').get()!.n;
  return { subjects, changes: after - before };
}
