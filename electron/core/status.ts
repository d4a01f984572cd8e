import type { Status } from '../../shared/status.ts';
import { Consumer } from './consumer.ts';
import { hopCounts } from './fleet.ts';
import { installedScope, middlemanHoldsFullKeys } from './crypto/keyset.ts';
import { MODELS } from './domain/registry.ts';
import type { Store } from './store.ts';
import { batchGaps, producerWaits, unmatchedFiles } from './waits.ts';

export const LAST_SYNC_KEY = 'lastSync';

/** The counts of `status --json` (DESIGN section 8). */
export function readStatus(store: Store): Status {
  const q = <T>(sql: string): T => store.sql.prepare(sql).get() as T;
  const out = q<{ total: number; pendingServer: number | null; pendingMiddleman: number | null }>(`SELECT count(*) AS total,
      count(*) FILTER (WHERE is_consumed_server = 0) AS "pendingServer",
      count(*) FILTER (WHERE is_consumed_server = 0 AND is_consumed_middleman = 0) AS "pendingMiddleman" FROM outgoing_transaction`);
  const inc = q<Record<'total' | 'consumed' | 'deferred' | 'error' | 'conflicts' | 'pending' | 'awaitingForward', number | null>>(`SELECT count(*) AS total,
      sum(is_consumed) AS consumed,
      count(*) FILTER (WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND deferred_count > 0 AND blocked_by IS NULL) AS deferred,
      sum(is_error) AS error,
      sum(is_conflict) AS conflicts,
      count(*) FILTER (WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0) AS pending,
      count(*) FILTER (WHERE forwarded_at IS NULL) AS "awaitingForward" FROM incoming_transaction`);
  const blocked = (store.sql.prepare(`SELECT blocked_by AS "by", min(producer) AS producer, count(*) AS n, min(blocked_reason) AS reason
      FROM incoming_transaction WHERE blocked_by IS NOT NULL GROUP BY blocked_by ORDER BY min(producer), blocked_by`).all() as { by: string; producer: string; n: number; reason: string | null }[])
    .map((b) => ({ by: b.by, producer: b.producer, count: b.n, reason: b.reason ?? '' }));
  const blockedTotal = blocked.reduce((n, b) => n + b.count, 0);
  const keyScope = installedScope(store.keyDir);
  const records: Record<string, number> = {};
  for (const m of MODELS.values()) {
    records[m.txName] = (store.sql.prepare(`SELECT count(*) AS n FROM "${m.tableName}"`).get() as { n: number }).n;
  }
  return {
    role: store.role,
    deviceId: store.deviceId,
    outgoing: { total: out.total, pendingServer: out.pendingServer ?? 0, pendingMiddleman: out.pendingMiddleman ?? 0, hops: hopCounts(store) },
    incoming: {
      total: inc.total ?? 0, consumed: inc.consumed ?? 0, deferred: inc.deferred ?? 0, error: inc.error ?? 0,
      conflicts: inc.conflicts ?? 0, pending: (inc.pending ?? 0) - blockedTotal,
      // Central is the last hop: nothing it holds waits to go anywhere.
      awaitingForward: store.role === 'middleman' || store.role === 'site' ? inc.awaitingForward ?? 0 : 0,
      quarantinedFiles: (store.sql.prepare("SELECT count(*) AS n FROM file_import WHERE status = 'quarantined'").get() as { n: number }).n,
      gaps: new Consumer(store).gaps(),
      blocked,
      batchGaps: batchGaps(store),
      unmatchedFiles: unmatchedFiles(store),
      producerWaits: store.role === 'field' ? [] : producerWaits(store),
    },
    records,
    lastSync: store.getState(LAST_SYNC_KEY),
    keyScope,
    keysWarning: middlemanHoldsFullKeys(store.role, keyScope),
  };
}
