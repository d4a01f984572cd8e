/** Conflicts kept by the consumer, with both versions decrypted for review (`edc-sync conflicts`). */
import { z } from 'zod';
import type { TxName } from '../../shared/domain.ts';
import { EdcError } from '../../shared/errors.ts';
import { CONSUMING_ROLES } from '../../shared/settings.ts';
import { MODELS, toJs } from './domain/registry.ts';
import { Study } from './domain/study.ts';
import type { Actor } from './write-path.ts';
import type { RawRow } from './envelope.ts';
import type { Store } from './store.ts';
import { shaped } from './db/typed.ts';
import { countRow } from './row-shapes.ts';

/** What happened, for the screen's sentence (the stored reason stays the details line). */
export const CONFLICT_KINDS = ['update-changed', 'update-deleted', 'delete-changed', 'exists', 'natural-key'] as const;
export type ConflictKind = (typeof CONFLICT_KINDS)[number];

/** The record's identifier people know it by (participant or tube number, consent version, visit code), when it has one. */
const LABEL_COLUMN: Partial<Record<TxName, string>> = {
  'edc.subject': 'subject_identifier', 'edc.consent': 'version', 'edc.visit': 'visit_code', 'edc.specimen_requisition': 'requisition_identifier',
  'edc.specimen_reconciliation': 'reconciliation_identifier', 'edc.specimen_custody': 'custody_identifier', 'edc.follow_up': 'subject_identifier',
};

export interface ConflictView {
  incomingId: string;
  kind: ConflictKind;
  /** The identifier people know the record by (null: none, e.g. a vital signs form). */
  label: string | null;
  txName: string;
  recordId: string;
  localRevision: number | null;
  incomingBaseRevision: number;
  detectedAt: string;
  reason: string | null;
  /** Columns whose values differ: [here, incoming] (PII decrypted). */
  differences: Record<string, [unknown, unknown]>;
  /** PII columns a middleman's carrier key set cannot read (null here); listed in differences when their lookup hashes differ. */
  protectedFields: string[];
  local: RawRow | null;
  incoming: RawRow;
  resolvedAt: string | null;
  resolution: Resolution | null;
  resolvedBy: string | null;
  /** Taking the incoming version needs the record to exist here (an update or a delete of it). */
  canTakeIncoming: boolean;
}

export const RESOLUTIONS = ['keep-here', 'take-incoming'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** A conflict with its incoming transaction's reason and action, checked where it is read (db/typed.ts). */
const conflictRow = z.object({
  id: z.number(), incoming_id: z.string(), tx_name: z.string(), tx_pk: z.string(), local_revision: z.number().nullable(), incoming_base_revision: z.number(),
  local_record: z.string().nullable(), incoming_record: z.string(), detected_at: z.string(), resolved_at: z.string().nullable(),
  resolution: z.enum(RESOLUTIONS).nullable(), resolved_by: z.string().nullable(), reason: z.string().nullable(), action: z.enum(['I', 'U', 'D']),
});
const actionRow = z.object({ action: z.enum(['I', 'U', 'D']) });

/** How many conflicts listConflicts would list (open ones, or all). */
export function countConflicts(store: Store, opts: { includeResolved?: boolean } = {}): number {
  return shaped(store.sql, countRow, `SELECT count(*) AS n FROM sync_conflict ${opts.includeResolved ? '' : 'WHERE resolved_at IS NULL'}`).get()!.n;
}

/** Conflicts oldest first (open ones, or all), optionally one page of them (paged in SQL: only that page is decrypted). */
export function listConflicts(store: Store, opts: { includeResolved?: boolean; page?: number; pageSize?: number } = {}): ConflictView[] {
  const study = new Study(store);
  const limit = opts.pageSize ?? Number.MAX_SAFE_INTEGER; // all of them (LIMIT -1 is SQLite's alone)
  const rows = shaped(store.sql, conflictRow, `SELECT c.*, i.error AS reason, i.action FROM sync_conflict c JOIN incoming_transaction i ON i.id = c.incoming_id
    ${opts.includeResolved ? '' : 'WHERE c.resolved_at IS NULL'} ORDER BY c.id LIMIT ? OFFSET ?`).all(limit, opts.pageSize === undefined ? 0 : (opts.page ?? 0) * limit);
  return rows.map((r) => {
    const txName = String(r.tx_name) as TxName;
    const hidden: string[] = [];
    const localStored = r.local_record ? JSON.parse(String(r.local_record)) as RawRow : null;
    const incomingStored = JSON.parse(String(r.incoming_record)) as RawRow;
    const local = localStored ? study.decrypted(txName, localStored, hidden) : null;
    const incoming = study.decrypted(txName, incomingStored, hidden);
    const differences: Record<string, [unknown, unknown]> = {};
    // Unreadable here (carrier key set): a PII column differs when its keyed lookup hash does.
    for (const p of MODELS.get(txName)!.pii) {
      if (hidden.includes(p.sql) && p.hashSql in incomingStored && (localStored?.[p.hashSql] ?? null) !== (incomingStored[p.hashSql] ?? null)) differences[p.sql] = [null, null];
    }
    for (const k of Object.keys(incoming)) {
      if (['modified', 'user_modified', 'hostname_modified', 'revision'].includes(k)) continue;
      if ((local?.[k] ?? null) !== incoming[k]) differences[k] = [local?.[k] ?? null, incoming[k]];
    }
    const sameRecord = local !== null && String(local.id) === String(r.tx_pk);
    const kind: ConflictKind = r.action === 'D' ? 'delete-changed' : r.action === 'U' ? (local ? 'update-changed' : 'update-deleted') : sameRecord ? 'exists' : 'natural-key';
    const labelCol = LABEL_COLUMN[txName];
    const labelValue = labelCol ? incoming[labelCol] ?? local?.[labelCol] : null;
    return {
      incomingId: String(r.incoming_id), kind, label: labelValue === null || labelValue === undefined ? null : String(labelValue as string | number), txName, recordId: String(r.tx_pk), localRevision: r.local_revision === null ? null : Number(r.local_revision),
      incomingBaseRevision: Number(r.incoming_base_revision), detectedAt: String(r.detected_at), reason: r.reason === null ? null : String(r.reason),
      differences, protectedFields: hidden, local, incoming,
      resolvedAt: r.resolved_at === null ? null : String(r.resolved_at),
      resolution: r.resolution,
      resolvedBy: r.resolved_by === null ? null : String(r.resolved_by),
      canTakeIncoming: local !== null && String(local.id) === String(r.tx_pk) && (r.action === 'D' || Object.keys(incoming).length > 0),
    };
  });
}

/**
 * Settles a conflict. `keep-here` records the decision; `take-incoming` writes the incoming version (or the incoming
 * delete) through the write path, in the same transaction as the decision, so it gets its own history and outgoing
 * transaction and travels on like any other change.
 */
export function resolveConflict(store: Store, incomingId: string, resolution: Resolution, actor: Actor): { recordRevision: number | null } {
  if (!CONSUMING_ROLES.includes(store.role)) throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device has no conflicts to resolve`);
  const view = listConflicts(store).find((c) => c.incomingId === incomingId);
  if (!view) throw new EdcError('RECORD_NOT_FOUND', `no open conflict for transaction ${incomingId} (already resolved?)`);
  const study = new Study(store);
  const model = MODELS.get(view.txName)!;
  return study.write.batch(() => {
    let recordRevision: number | null = view.localRevision;
    if (resolution === 'take-incoming') {
      // A carrier key set reads PII as null: writing "the incoming version" would blank those columns.
      if (model.pii.length > 0 && !store.requireKeys().canReadPii) {
        throw new EdcError('KEYS_CARRIER', `taking the incoming version of a ${view.txName} record needs the key for participants' details; keep the version here (the site settles it)`);
      }
      if (!view.canTakeIncoming) throw new EdcError('INPUT_INVALID', `${view.txName} ${view.recordId} does not exist here as that record, so the incoming version cannot replace it; keep this version (and re-enter the change if needed)`);
      const action = shaped(store.sql, actionRow, 'SELECT action FROM incoming_transaction WHERE id = ?').get(incomingId)!.action;
      if (action === 'D') {
        study.write.delete(view.txName as TxName, view.recordId, actor);
        recordRevision = null;
      } else {
        const js = toJs(model, view.incoming);
        const fields = Object.keys((model.input as unknown as { shape: Record<string, unknown> }).shape);
        const patch = Object.fromEntries(fields.filter((f) => f in js).map((f) => [f, js[f]]));
        recordRevision = Number(study.write.update(view.txName as TxName, view.recordId, patch as never, actor).revision);
      }
    }
    store.sql.prepare('UPDATE sync_conflict SET resolved_at = ?, resolution = ?, resolved_by = ? WHERE incoming_id = ? AND resolved_at IS NULL')
      .run(new Date().toISOString(), resolution, actor.user, incomingId);
    return { recordRevision };
  });
}
