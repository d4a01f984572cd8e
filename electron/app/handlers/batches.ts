/** Consumed batches per channel with their failed transactions, retry, and conflicts to settle (middleman, site, central). */
import { Consumer } from '../../core/consumer.ts';
import { drainYielding } from '../../core/steps.ts';
import { listConflicts, resolveConflict } from '../../core/conflicts.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

export function batchHandlers(ctx: HandlerContext): AreaHandlers<'batches.list' | 'batches.transactions' | 'batches.retry' | 'conflicts.list' | 'conflicts.resolve'> {
  return {
    'batches.list': async ({ limit }) => {
      const s = ctx.need();
      const rows = s.sql.prepare(`SELECT batch_id, received_via, group_concat(DISTINCT producer) AS producers, min(received_at) AS first,
          count(*) AS total, sum(is_consumed) AS consumed,
          sum(is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND is_ignored = 0) AS pending,
          sum(is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND deferred_count > 0) AS deferred,
          sum(is_error) AS error, sum(is_conflict) AS conflicts
        FROM incoming_transaction GROUP BY batch_id, received_via ORDER BY first DESC LIMIT ?`).all(limit) as Record<string, unknown>[];
      return {
        batches: rows.map((r) => ({
          batchId: (r.batch_id as string | null) ?? null, channel: r.received_via as 'rest' | 'middleman' | 'file' | 'copy',
          producers: String(r.producers ?? '').split(',').filter(Boolean).sort(), firstReceivedAt: String(r.first),
          total: Number(r.total), consumed: Number(r.consumed ?? 0), pending: Number(r.pending ?? 0), deferred: Number(r.deferred ?? 0),
          error: Number(r.error ?? 0), conflicts: Number(r.conflicts ?? 0),
        })),
        gaps: new Consumer(s).gaps(),
        // A stale reason is not shown once nothing waits any more (a retry may have applied everything).
        consumerError: (s.sql.prepare('SELECT 1 FROM incoming_transaction WHERE is_consumed = 0 AND is_error = 0 AND is_conflict = 0 LIMIT 1').get()
          ? ctx.opts.consumerError?.() : null) ?? null,
        quarantined: (s.sql.prepare("SELECT file_name, reason, at FROM file_import WHERE status = 'quarantined' ORDER BY id DESC LIMIT 100").all() as { file_name: string; reason: string | null; at: string }[])
          .map((q) => ({ fileName: q.file_name, reason: q.reason, at: q.at })),
      };
    },

    'batches.transactions': async ({ batchId, channel, onlyProblems }) => {
      const s = ctx.need();
      const problems = onlyProblems ? 'AND (is_error = 1 OR is_conflict = 1 OR (is_consumed = 0 AND deferred_count > 0))' : '';
      const rows = s.sql.prepare(`SELECT id, producer, producer_seq, tx_name, action, is_consumed, is_ignored, is_error, error, is_conflict,
          deferred_count, deferred_reason, received_at FROM incoming_transaction
        WHERE batch_id IS ? AND received_via = ? ${problems} ORDER BY producer, producer_seq LIMIT 2000`).all(batchId, channel) as Record<string, unknown>[];
      return {
        rows: rows.map((r) => {
          const state = r.is_error ? 'error' : r.is_conflict ? 'conflict' : r.is_ignored ? 'ignored' : r.is_consumed ? 'consumed' : Number(r.deferred_count) > 0 ? 'deferred' : 'pending';
          const reason = state === 'error' ? (r.error as string | null) : state === 'deferred' ? (r.deferred_reason as string | null) : state === 'conflict' ? 'the record changed here meanwhile; see `edc-sync conflicts`' : null;
          return {
            id: String(r.id), producer: String(r.producer), producerSeq: Number(r.producer_seq), txName: String(r.tx_name),
            action: r.action as 'I' | 'U' | 'D', state, reason: reason ?? null, receivedAt: String(r.received_at),
          } as const;
        }),
      };
    },

    'batches.retry': async () => ctx.exclusive('batches.retry', async () => {
      const s = ctx.need();
      s.reloadKeys(); // the usual fix is a key set imported meanwhile (CLI or Device screen)
      const r = await drainYielding(new Consumer(s).retrySteps(ctx.progress('batches.retry')));
      ctx.changed('batches');
      ctx.changed('status');
      return r;
    }),

    'conflicts.list': async ({ includeResolved }) => ({
      conflicts: listConflicts(ctx.need(), { includeResolved }).map((c) => ({
        incomingId: c.incomingId, txName: c.txName, recordId: c.recordId, localRevision: c.localRevision, incomingBaseRevision: c.incomingBaseRevision,
        detectedAt: c.detectedAt, reason: c.reason, differences: c.differences,
        changedHereBy: (c.local?.user_modified as string | undefined) ?? null, changedIncomingBy: (c.incoming.user_modified as string | undefined) ?? null,
        resolvedAt: c.resolvedAt, resolution: c.resolution, resolvedBy: c.resolvedBy, canTakeIncoming: c.canTakeIncoming,
      })),
    }),

    'conflicts.resolve': async ({ incomingId, resolution }, who) => {
      const r = resolveConflict(ctx.need(), incomingId, resolution, ctx.actor(who));
      ctx.changed('status');
      return {
        message: resolution === 'keep-here' ? 'Kept the version here. The incoming change stays on record.'
          : r.recordRevision === null ? 'Took the incoming change: the record is deleted here, and the delete syncs on.'
            : `Took the incoming version (now revision ${r.recordRevision}); the change syncs on like any other.`,
      };
    },
  };
}
