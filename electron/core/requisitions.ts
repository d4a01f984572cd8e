/**
 * Correcting a tube's draw time on the field laptop: an update of the requisition through the write path (so it
 * is an outgoing, signed, synced transaction), with the person's reason in the change's audit history. The rule
 * (shared/specimens.ts checkDrawTime) is checked here against the device clock, whatever the page checked.
 */
import { z } from 'zod';
import { EdcError } from '../../shared/errors.ts';
import { zoneOrLocal } from '../../shared/local-time.ts';
import { checkDrawTime, earliestDrawMs, type DrawTimeRefusal } from '../../shared/specimens.ts';
import { deviceNow } from './clock.ts';
import type { Study } from './domain/study.ts';
import { shaped } from './db/typed.ts';
import type { RawRow } from './envelope.ts';
import type { Store } from './store.ts';
import type { Actor } from './write-path.ts';

const drawTimesRow = z.object({ drawn_datetime: z.string(), visit_datetime: z.string(), registration_datetime: z.string() });
const correctionRow = z.object({ changes: z.string(), reason: z.string().nullable(), user: z.string(), at: z.string() });

const REFUSAL_CODE = { future: 'DRAW_TIME_IN_FUTURE', 'before-visit-day': 'DRAW_TIME_TOO_EARLY', unchanged: 'DRAW_TIME_UNCHANGED' } as const satisfies Record<DrawTimeRefusal, string>;

export interface DrawCorrection {
  from: string;
  to: string;
  reason: string | null;
  user: string;
  at: string;
}

export function correctDrawTime(store: Store, study: Study, id: string, drawnIso: string, reason: string, actor: Actor): RawRow {
  const row = shaped(store.sql, drawTimesRow, `SELECT r.drawn_datetime, v.visit_datetime, s.registration_datetime FROM specimen_requisition r
      JOIN visit v ON v.id = r.visit_id JOIN subject s ON s.id = v.subject_id WHERE r.id = ?`).get(id);
  if (!row) throw new EdcError('RECORD_NOT_FOUND', `specimen requisition ${id}`);
  const drawn = new Date(drawnIso).toISOString();
  const check = checkDrawTime(drawn, {
    nowMs: deviceNow(store).getTime(),
    earliestMs: earliestDrawMs(row.visit_datetime, row.registration_datetime, zoneOrLocal(store.settings.timeZone)),
    currentIso: row.drawn_datetime,
  });
  if (!check.ok) throw new EdcError(REFUSAL_CODE[check.reason], `draw time ${drawn}`, { field: 'drawnDatetime' });
  return study.write.update('edc.specimen_requisition', id, { drawnDatetime: drawn }, actor, { reason });
}

/** The draw-time corrections of a requisition from its audit history, oldest first (here and wherever the change arrived). */
export function drawCorrections(store: Store, id: string): DrawCorrection[] {
  const rows = shaped(store.sql, correctionRow, `SELECT changes, reason, "user", at FROM audit_history
      WHERE tx_name = 'edc.specimen_requisition' AND record_id = ? AND action = 'U' ORDER BY revision`).all(id);
  const out: DrawCorrection[] = [];
  for (const r of rows) {
    const c = (JSON.parse(r.changes) as Record<string, [unknown, unknown]>).drawn_datetime;
    if (c) out.push({ from: String(c[0]), to: String(c[1]), reason: r.reason, user: r.user, at: r.at });
  }
  return out;
}
