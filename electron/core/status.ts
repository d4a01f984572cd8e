import { z } from 'zod';
import type { Status } from '../../shared/status.ts';
import { Consumer } from './consumer.ts';
import { hopCounts } from './fleet.ts';
import { installedScope, middlemanHoldsFullKeys } from './crypto/keyset.ts';
import { shaped } from './db/typed.ts';
import { MODELS } from './domain/registry.ts';
import { countRow } from './row-shapes.ts';
import type { Store } from './store.ts';
import { batchGaps, producerWaits, unmatchedFiles } from './waits.ts';

export const LAST_SYNC_KEY = 'lastSync';

// The status counts (sum() over no rows is null), checked where they are read (db/typed.ts).
const outgoingCounts = z.object({ total: z.number(), pendingServer: z.number().nullable(), pendingMiddleman: z.number().nullable() });
const incomingCounts = z.object({
  total: z.number(), consumed: z.number().nullable(), deferred: z.number().nullable(), error: z.number().nullable(), conflicts: z.number().nullable(),
  pending: z.number().nullable(), awaitingForward: z.number().nullable(),
});
const blockedRow = z.object({ by: z.string(), producer: z.string(), n: z.number(), reason: z.string().nullable() });

/** The counts of `status --json` (DESIGN section 8). */
export function readStatus(store: Store): Status {
  const out = shaped(store.sql, outgoingCounts, `SELECT count(*) AS total,
      count(*) FILTER (WHERE is_consumed_server = 0) AS "pendingServer",
      count(*) FILTER (WHERE is_consumed_server = 0 AND is_consumed_middleman = 0) AS "pendingMiddleman" FROM outgoing_transaction`).get()!;
  const inc = shaped(store.sql, incomingCounts, `SELECT count(*) AS total,
      sum(is_consumed) AS consumed,
      count(*) FILTER (WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND deferred_count > 0 AND blocked_by IS NULL) AS deferred,
      sum(is_error) AS error,
      sum(is_conflict) AS conflicts,
      count(*) FILTER (WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0) AS pending,
      count(*) FILTER (WHERE forwarded_at IS NULL) AS "awaitingForward" FROM incoming_transaction`).get()!;
  const blocked = shaped(store.sql, blockedRow, `SELECT blocked_by AS "by", min(producer) AS producer, count(*) AS n, min(blocked_reason) AS reason
      FROM incoming_transaction WHERE blocked_by IS NOT NULL GROUP BY blocked_by ORDER BY min(producer), blocked_by`).all()
    .map((b) => ({ by: b.by, producer: b.producer, count: b.n, reason: b.reason ?? '' }));
  const blockedTotal = blocked.reduce((n, b) => n + b.count, 0);
  const keyScope = installedScope(store.keyDir);
  const records: Record<string, number> = {};
  for (const m of MODELS.values()) {
    records[m.txName] = shaped(store.sql, countRow, `SELECT count(*) AS n FROM "${m.tableName}"`).get()!.n;
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
      quarantinedFiles: shaped(store.sql, countRow, "SELECT count(*) AS n FROM file_import WHERE status = 'quarantined'").get()!.n,
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
