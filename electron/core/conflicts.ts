/** Conflicts kept by the consumer, with both versions decrypted for review (`edc-sync conflicts`). */
import type { TxName } from '../../shared/domain.ts';
import { Study } from './domain/study.ts';
import type { RawRow } from './envelope.ts';
import type { Store } from './store.ts';

export interface ConflictView {
  incomingId: string;
  txName: string;
  recordId: string;
  localRevision: number | null;
  incomingBaseRevision: number;
  detectedAt: string;
  reason: string | null;
  /** Columns whose values differ: [here, incoming] (PII decrypted). */
  differences: Record<string, [unknown, unknown]>;
  local: RawRow | null;
  incoming: RawRow;
}

export function listConflicts(store: Store, opts: { includeResolved?: boolean } = {}): ConflictView[] {
  const study = new Study(store);
  const rows = store.sql.prepare(`SELECT c.*, i.error AS reason FROM sync_conflict c JOIN incoming_transaction i ON i.id = c.incoming_id
    ${opts.includeResolved ? '' : 'WHERE c.resolved_at IS NULL'} ORDER BY c.id`).all() as Record<string, string | number | null>[];
  return rows.map((r) => {
    const txName = String(r.tx_name) as TxName;
    const local = r.local_record ? study.decrypted(txName, JSON.parse(String(r.local_record)) as RawRow) : null;
    const incoming = study.decrypted(txName, JSON.parse(String(r.incoming_record)) as RawRow);
    const differences: Record<string, [unknown, unknown]> = {};
    for (const k of Object.keys(incoming)) {
      if (['modified', 'user_modified', 'hostname_modified', 'revision'].includes(k)) continue;
      if ((local?.[k] ?? null) !== incoming[k]) differences[k] = [local?.[k] ?? null, incoming[k]];
    }
    return {
      incomingId: String(r.incoming_id), txName, recordId: String(r.tx_pk), localRevision: r.local_revision === null ? null : Number(r.local_revision),
      incomingBaseRevision: Number(r.incoming_base_revision), detectedAt: String(r.detected_at), reason: r.reason === null ? null : String(r.reason),
      differences, local, incoming,
    };
  });
}
