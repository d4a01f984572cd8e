/**
 * Correcting and removing what was entered on the field laptop: participants (their personal details included),
 * consents, visits and blood tubes. Every change is an update or delete through the write path (so it is audited,
 * signed and synced like any other), carries the person's reason in its audit history (migration 0012, as the
 * draw-time correction does) and is validated by the same schemas as entry. Deleting a record deletes what depends
 * on it first (a participant's consents and visits, a visit's forms and tubes), each an audited delete with the same
 * reason, in one transaction, children before parents so every receiver applies them in that order.
 */
import { z } from 'zod';
import type { correctionSchema, RecordKind } from '../../shared/contract.ts';
import type { ModelInput, TxName } from '../../shared/domain.ts';
import { EdcError } from '../../shared/errors.ts';
import { zoneOrLocal } from '../../shared/local-time.ts';
import { checkRecordTime } from '../../shared/record-times.ts';
import { correctionReasonSchema } from '../../shared/specimens.ts';
import { deviceNow } from './clock.ts';
import { jsonArrayItem, jsonValues } from './db/dialect.ts';
import { shaped } from './db/typed.ts';
import { MODELS } from './domain/registry.ts';
import type { Study } from './domain/study.ts';
import type { RawRow } from './envelope.ts';
import { decryptChanges } from './review.ts';
import { countRow, idRow } from './row-shapes.ts';
import type { Store } from './store.ts';
import type { Actor } from './write-path.ts';

export const KIND_TX = {
  subject: 'edc.subject',
  consent: 'edc.consent',
  visit: 'edc.visit',
  requisition: 'edc.specimen_requisition',
  vitalSigns: 'edc.vital_signs',
  medicalHistory: 'edc.medical_history',
} as const satisfies Record<RecordKind, TxName>;

/** What may be corrected, per kind (identifiers and parents never change: delete and enter again instead). */
export type Correction = z.output<typeof correctionSchema>;

function checkReason(reason: string): string {
  const r = correctionReasonSchema.safeParse(reason);
  if (!r.success) throw new EdcError('INPUT_INVALID', 'reason: say why the record is changed', { field: 'reason' });
  return r.data;
}

/**
 * A corrected consent or visit time: not later than now on this device's clock, not before the registration day, and
 * for a visit not on a later day than any of its blood tubes was drawn (shared/record-times.ts, as the page checks it).
 */
function checkTime(store: Store, table: 'consent' | 'visit', id: string, field: 'consentDatetime' | 'visitDatetime', iso: string): void {
  const row = shaped(store.sql, registrationRow, `SELECT s.registration_datetime FROM "${table}" x JOIN subject s ON s.id = x.subject_id WHERE x.id = ?`).get(id);
  if (!row) throw new EdcError('RECORD_NOT_FOUND', `${table} ${id}`);
  const tubesDrawn = table === 'visit'
    ? shaped(store.sql, drawnRow, 'SELECT drawn_datetime FROM specimen_requisition WHERE visit_id = ?').all(id).map((r) => r.drawn_datetime)
    : [];
  const check = checkRecordTime(iso, { nowMs: deviceNow(store).getTime(), registrationIso: row.registration_datetime, timeZone: zoneOrLocal(store.settings.timeZone), tubesDrawn });
  if (check.ok) return;
  if (check.reason === 'after-tubes') {
    throw new EdcError('VISIT_AFTER_TUBES', `changes.${field}: ${iso} is on a later day than ${check.tubes} of the visit's blood tubes were drawn (the first at ${check.firstDrawnIso})`, { field: `changes.${field}` });
  }
  const why = check.reason === 'future' ? 'is later than now on this device\'s clock' : 'is before the day the participant was registered';
  throw new EdcError('INPUT_INVALID', `changes.${field}: ${iso} ${why}`, { field: `changes.${field}` });
}

/** One audited update with the reason; refused (RECORD_UNCHANGED) when it would change nothing. */
export function correctRecord(store: Store, study: Study, c: Correction, actor: Actor): RawRow {
  const reason = checkReason(c.reason);
  const txName = KIND_TX[c.kind];
  const model = MODELS.get(txName)!;
  const before = shaped(store.sql, revisionRow, `SELECT revision FROM "${model.tableName}" WHERE id = ?`).get(c.id);
  if (!before) throw new EdcError('RECORD_NOT_FOUND', `${txName} ${c.id}`);
  if (c.kind === 'consent' && c.changes.consentDatetime !== undefined) checkTime(store, 'consent', c.id, 'consentDatetime', c.changes.consentDatetime);
  if (c.kind === 'visit' && c.changes.visitDatetime !== undefined) checkTime(store, 'visit', c.id, 'visitDatetime', c.changes.visitDatetime);
  const row = study.write.update(txName, c.id, c.changes as Partial<ModelInput<typeof txName>>, actor, { reason });
  if (Number(row.revision) === before.revision) throw new EdcError('RECORD_UNCHANGED', `${txName} ${c.id}`);
  return row;
}

/** The records a delete of `kind` `id` removes, children first, the record itself last. */
function deletionOrder(store: Store, kind: RecordKind, id: string): { txName: TxName; id: string }[] {
  const ids = (sql: string, ...args: string[]) => shaped(store.sql, idRow, sql).all(...args).map((r) => r.id);
  const visitParts = (visitId: string) => [
    ...ids('SELECT id FROM specimen_requisition WHERE visit_id = ? ORDER BY id', visitId).map((x) => ({ txName: 'edc.specimen_requisition' as const, id: x })),
    ...ids('SELECT id FROM vital_signs WHERE visit_id = ?', visitId).map((x) => ({ txName: 'edc.vital_signs' as const, id: x })),
    ...ids('SELECT id FROM medical_history WHERE visit_id = ?', visitId).map((x) => ({ txName: 'edc.medical_history' as const, id: x })),
    { txName: 'edc.visit' as const, id: visitId },
  ];
  switch (kind) {
    case 'subject':
      return [
        ...ids('SELECT id FROM visit WHERE subject_id = ? ORDER BY id', id).flatMap(visitParts),
        ...ids('SELECT id FROM consent WHERE subject_id = ? ORDER BY id', id).map((x) => ({ txName: 'edc.consent' as const, id: x })),
        { txName: 'edc.subject', id },
      ];
    case 'visit':
      return visitParts(id);
    case 'consent':
      return [{ txName: 'edc.consent', id }];
    case 'requisition':
      return [{ txName: 'edc.specimen_requisition', id }];
    case 'vitalSigns':
      return [{ txName: 'edc.vital_signs', id }];
    case 'medicalHistory':
      return [{ txName: 'edc.medical_history', id }];
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
}

/** Deletes the record and what depends on it, each an audited, synced delete with the reason; returns how many. */
export function deleteRecord(store: Store, study: Study, kind: RecordKind, id: string, reason: string, actor: Actor): number {
  const why = checkReason(reason);
  const txName = KIND_TX[kind];
  if (!store.sql.prepare(`SELECT 1 FROM "${MODELS.get(txName)!.tableName}" WHERE id = ?`).get(id)) throw new EdcError('RECORD_NOT_FOUND', `${txName} ${id}`);
  return study.write.batch(() => {
    const order = deletionOrder(store, kind, id);
    for (const r of order) study.write.delete(r.txName, r.id, actor, { reason: why });
    return order.length;
  });
}

export interface HistoryEntry {
  txName: TxName;
  recordId: string;
  action: 'I' | 'U' | 'D';
  revision: number;
  user: string;
  at: string;
  reason: string | null;
  /** What the record is, in its own data: a participant or tube number, a consent version, a visit code. */
  what: string | null;
  /** An update's changes by field name ([before, after], personal details decrypted); null for an insert or delete. */
  changes: Record<string, [unknown, unknown]> | null;
}

const LABEL_COLUMN: Partial<Record<TxName, string>> = {
  'edc.subject': 'subject_identifier',
  'edc.consent': 'version',
  'edc.visit': 'visit_code',
  'edc.specimen_requisition': 'requisition_identifier',
};

/** A stored transaction name (the registry's, as this app writes them; looked up in MODELS by the reader). */
const txNameColumn = z.custom<TxName>((v) => typeof v === 'string');
const auditRow = z.object({
  tx_name: txNameColumn, record_id: z.string(), action: z.enum(['I', 'U', 'D']), revision: z.number(), user: z.string(), at: z.string(),
  reason: z.string().nullable(), changes: z.string(),
});
const deletedRow = auditRow.pick({ record_id: true, user: true, at: true, reason: true, changes: true });
const registrationRow = z.object({ registration_datetime: z.string() });
const drawnRow = z.object({ drawn_datetime: z.string() });
const revisionRow = z.object({ revision: z.number() });
const recordIdRow = z.object({ record_id: z.string() });

/**
 * A participant's whole history, oldest first: the participant and everything recorded for them (consents, visits,
 * their forms and tubes), deleted records included. Read from the audit history alone, so it works just the same
 * once the participant is deleted. Records are found through the parent ids their inserts and deletes carry.
 */
export function subjectHistory(store: Store, subjectId: string): HistoryEntry[] {
  const childIds = (txNames: TxName[], parentCol: string, parents: string[]): string[] => {
    if (parents.length === 0) return [];
    const d = store.sql.dialect;
    return shaped(store.sql, recordIdRow, `SELECT DISTINCT record_id FROM audit_history WHERE tx_name IN (${jsonValues(d)})
        AND action IN ('I', 'D') AND coalesce(${jsonArrayItem(d, 'changes', parentCol, 1)}, ${jsonArrayItem(d, 'changes', parentCol, 0)}) IN (${jsonValues(d)})`)
      .all(JSON.stringify(txNames), JSON.stringify(parents)).map((r) => r.record_id);
  };
  const direct = childIds(['edc.consent', 'edc.visit'], 'subject_id', [subjectId]);
  const visits = shaped(store.sql, recordIdRow, `SELECT DISTINCT record_id FROM audit_history WHERE tx_name = 'edc.visit' AND record_id IN (${jsonValues(store.sql.dialect)})`)
    .all(JSON.stringify(direct)).map((r) => r.record_id);
  const grand = childIds(['edc.vital_signs', 'edc.medical_history', 'edc.specimen_requisition'], 'visit_id', visits);
  const rows = shaped(store.sql, auditRow, `SELECT tx_name, record_id, action, revision, "user", at, reason, changes FROM audit_history
      WHERE record_id IN (${jsonValues(store.sql.dialect)}) ORDER BY at, id`).all(JSON.stringify([subjectId, ...direct, ...grand]));
  const labels = new Map<string, string>();
  for (const r of rows) {
    const col = LABEL_COLUMN[r.tx_name];
    if (!col || r.action === 'U') continue;
    const pair = (JSON.parse(r.changes) as Record<string, [unknown, unknown]>)[col];
    const v = pair?.[1] ?? pair?.[0];
    if (v !== null && v !== undefined) labels.set(r.record_id, String(v as string | number));
  }
  return rows.map((r) => {
    const model = MODELS.get(r.tx_name)!;
    let changes: HistoryEntry['changes'] = null;
    if (r.action === 'U') {
      changes = {};
      for (const [col, pair] of Object.entries(decryptChanges(store, r.tx_name, JSON.parse(r.changes) as Record<string, [unknown, unknown]>))) {
        if (col === 'revision') continue;
        const c = model.bySql.get(col);
        changes[c?.js ?? col] = c ? [c.fromDriver(pair[0]), c.fromDriver(pair[1])] : pair;
      }
    }
    return {
      txName: r.tx_name, recordId: r.record_id, action: r.action, revision: Number(r.revision), user: r.user, at: r.at,
      reason: r.reason, what: labels.get(r.record_id) ?? null, changes,
    };
  });
}

export interface DeletedSubject {
  id: string;
  subjectIdentifier: string;
  firstName: string | null;
  lastName: string | null;
  deletedAt: string;
  deletedBy: string;
  reason: string | null;
}

/** Participants deleted on this device (from the audit history), newest first, a page at a time. */
export function deletedSubjects(store: Store, page: number, pageSize: number): { rows: DeletedSubject[]; total: number } {
  const total = shaped(store.sql, countRow, `SELECT count(*) AS n FROM audit_history WHERE tx_name = 'edc.subject' AND action = 'D'`).get()!.n;
  const rows = shaped(store.sql, deletedRow, `SELECT record_id, "user", at, reason, changes FROM audit_history WHERE tx_name = 'edc.subject' AND action = 'D'
      ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`).all(pageSize, page * pageSize);
  return {
    total,
    rows: rows.map((r) => {
      const c = decryptChanges(store, 'edc.subject', JSON.parse(r.changes) as Record<string, [unknown, unknown]>);
      const before = (col: string) => (typeof c[col]?.[0] === 'string' ? (c[col][0] as string) : null);
      return {
        id: r.record_id, subjectIdentifier: before('subject_identifier') ?? '', firstName: before('first_name'), lastName: before('last_name'),
        deletedAt: r.at, deletedBy: r.user, reason: r.reason,
      };
    }),
  };
}
