/**
 * Specimen hand-overs on a middleman or site: which tubes a reconciliation expects (scoped to one hand-over, never
 * "everything ever requisitioned"), and the record a finished reconciliation writes. Tubes this device already
 * received (matched in one of its own custody records, or in a reconciliation it made before custody records
 * existed) are never expected again.
 */
import { z } from 'zod';
import type { ExpectedSpecimen } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';
import { oldestFirst, type Reason, type Scope } from '../../shared/specimens.ts';
import type { Store } from './store.ts';
import { shaped } from './db/typed.ts';
import { producerRow } from './row-shapes.ts';

export interface PullSummary {
  batchId: string;
  producer: string;
  at: string;
  tubes: number;
}

const tubeRow = z.object({
  requisition_identifier: z.string(), panel: z.string(), specimen_type: z.string(), drawn_datetime: z.string(), device_id: z.string(),
  subject_identifier: z.string().nullable(),
});
type TubeRow = z.infer<typeof tubeRow>;
/** A JSON list of tube identifiers (null: a hand-over not received yet). */
const matchedRow = z.object({ matched: z.string().nullable() });
const pullRow = z.object({ batch_id: z.string(), producer: z.string(), at: z.string(), n: z.number() });
const deviceIdRow = z.object({ device_id: z.string() });
const toDeviceRow = z.object({ to_device: z.string() });

const TUBE_SELECT = `SELECT r.requisition_identifier, r.panel, r.specimen_type, r.drawn_datetime, r.device_id, s.subject_identifier
  FROM specimen_requisition r LEFT JOIN visit v ON v.id = r.visit_id LEFT JOIN subject s ON s.id = v.subject_id`;

const toSpecimen = (r: TubeRow): ExpectedSpecimen => ({
  requisitionIdentifier: r.requisition_identifier, subjectIdentifier: r.subject_identifier, panel: r.panel,
  specimenType: r.specimen_type, drawnDatetime: r.drawn_datetime, producer: r.device_id,
});

/** A stored JSON list of tube identifiers (custody and reconciliation records); anything else reads as empty. */
export function parseList(s: string | null): string[] {
  if (!s) return [];
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Tubes this device has already taken in (matched by one of its own reconciliations). */
export function receivedHere(store: Store): Set<string> {
  const out = new Set<string>();
  for (const r of shaped(store.sql, matchedRow, 'SELECT matched FROM specimen_custody WHERE to_device = ?').all(store.deviceId)) {
    for (const id of parseList(r.matched)) out.add(id);
  }
  for (const r of shaped(store.sql, matchedRow, 'SELECT matched FROM specimen_reconciliation WHERE device_id = ?').all(store.deviceId)) {
    for (const id of parseList(r.matched)) out.add(id);
  }
  return out;
}

/** Middleman: its pulls, newest first, with how many requisitions each brought. */
export function listPulls(store: Store, limit = 50): PullSummary[] {
  const rows = shaped(store.sql, pullRow, `SELECT batch_id, producer, min(received_at) AS at, count(*) AS n FROM incoming_transaction
      WHERE tx_name = 'edc.specimen_requisition' AND action = 'I' AND batch_id IS NOT NULL
      GROUP BY batch_id, producer ORDER BY at DESC LIMIT ?`).all(limit);
  return rows.map((r) => ({ batchId: r.batch_id, producer: r.producer, at: r.at, tubes: r.n }));
}

/** Laptops whose tubes are held here (requisitions from them), and drivers whose hand-overs reached this device. */
export function sources(store: Store): { producers: string[]; drivers: string[] } {
  const producers = shaped(store.sql, deviceIdRow, 'SELECT DISTINCT device_id FROM specimen_requisition ORDER BY device_id').all().map((r) => r.device_id);
  const drivers = shaped(store.sql, toDeviceRow, "SELECT DISTINCT to_device FROM specimen_custody WHERE kind = 'pull' AND to_device IS NOT NULL AND to_device <> ? ORDER BY to_device").all(store.deviceId).map((r) => r.to_device);
  return { producers, drivers };
}

/** The tubes a reconciliation in `scope` expects, oldest draw first; `scope` resolved (the latest pull when none named). */
export function expectedTubes(store: Store, scope: Scope): { scope: Scope; specimens: ExpectedSpecimen[]; fromDevice: string | null } {
  const done = receivedHere(store);
  const keep = (rows: TubeRow[]) => oldestFirst(rows.filter((r) => !done.has(r.requisition_identifier)).map(toSpecimen));
  switch (scope.kind) {
    case 'pull': {
      if (store.role !== 'middleman') throw new EdcError('ROLE_NOT_ALLOWED', 'only a middleman reconciles a pull');
      const batchId = scope.batchId ?? listPulls(store, 1)[0]?.batchId;
      if (!batchId) return { scope, specimens: [], fromDevice: null };
      const rows = shaped(store.sql, tubeRow, `${TUBE_SELECT} WHERE r.id IN (SELECT tx_pk FROM incoming_transaction
          WHERE batch_id = ? AND tx_name = 'edc.specimen_requisition' AND action = 'I')`).all(batchId);
      const producer = shaped(store.sql, producerRow, 'SELECT producer FROM incoming_transaction WHERE batch_id = ? LIMIT 1').get(batchId)?.producer ?? null;
      return { scope: { kind: 'pull', batchId }, specimens: keep(rows), fromDevice: producer };
    }
    case 'laptop': {
      const rows = shaped(store.sql, tubeRow, `${TUBE_SELECT} WHERE r.device_id = ? AND r.drawn_datetime >= ?`).all(scope.producer, scope.since ?? '');
      return { scope, specimens: keep(rows), fromDevice: scope.producer };
    }
    case 'driver': {
      // What the driver's laptop took in (matched in its custody records) and has not been received here yet.
      const held = new Set<string>();
      for (const r of shaped(store.sql, matchedRow, 'SELECT matched FROM specimen_custody WHERE to_device = ?').all(scope.middleman)) {
        for (const id of parseList(r.matched)) held.add(id);
      }
      const rows = shaped(store.sql, tubeRow, TUBE_SELECT).all().filter((r) => held.has(r.requisition_identifier));
      return { scope, specimens: keep(rows), fromDevice: scope.middleman };
    }
    default: {
      const never: never = scope;
      throw new EdcError('INPUT_INVALID', `unknown scope ${JSON.stringify(never)}`);
    }
  }
}

/** Every missing and every unexpected tube needs a reason; returns the first one without. */
export function firstWithoutReason(missing: readonly string[], unexpected: readonly string[], reasons: Record<string, Reason>): string | null {
  for (const code of [...missing, ...unexpected]) if (!reasons[code]) return code;
  return null;
}
