/** Consumed batches as receive sessions (core/review.ts), grouped reasons, the transaction inspector, retry, and conflicts to settle (middleman, site, central). */
import { setAsidePlan, setAsideTransactions } from '../../core/set-aside.ts';
import { Consumer } from '../../core/consumer.ts';
import { incomingTransaction } from '../../core/db/schema.ts';
import { rowsOf } from '../../core/db/typed.ts';
import { batchGaps, producerWaits, unmatchedFiles } from '../../core/waits.ts';
import { drainYielding } from '../../core/steps.ts';
import { countConflicts, listConflicts, resolveConflict } from '../../core/conflicts.ts';
import { permissionsOf } from '../../../shared/contract.ts';
import { isEdcError, type ErrorCode } from '../../../shared/errors.ts';
import { decryptChanges, deviceSummaries, inspectTransaction, listSessions, problemTotals, reasonGroups, sessionRequests, sessionTransactions } from '../../core/review.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';
import { decryptEnvelope } from './transactions.ts';

export function batchHandlers(ctx: HandlerContext): AreaHandlers<'batches.list' | 'batches.requests' | 'batches.transactions' | 'batches.reasons' | 'transactions.inspect' | 'batches.retry' | 'transactions.setAsidePlan' | 'transactions.setAside' | 'conflicts.list' | 'conflicts.resolve'> {
  return {
    'batches.list': async ({ page, pageSize, problems, device }) => {
      const s = ctx.need();
      const { sessions, total } = listSessions(s, { page, pageSize, problems, device });
      return {
        sessions, total, devices: deviceSummaries(s), ...problemTotals(s),
        gaps: new Consumer(s).gaps(),
        batchGaps: batchGaps(s),
        unmatchedFiles: unmatchedFiles(s),
        producerWaits: producerWaits(s),
        // A stale reason is not shown once nothing waits any more (a retry may have applied everything).
        // Waiting: above a producer's cursor, or blocked below it (both on indexes; a scan took 17 ms at 20,000).
        consumerError: (s.sql.prepare(`SELECT 1 WHERE EXISTS (SELECT 1 FROM producer_cursor c WHERE EXISTS (SELECT 1 FROM incoming_transaction i WHERE i.producer = c.producer AND i.producer_seq > c.applied_seq))
            OR EXISTS (SELECT 1 FROM incoming_transaction WHERE blocked_by IS NOT NULL)`).get()
          ? ctx.opts.consumerError?.() : null) ?? null,
      };
    },

    'batches.requests': async ({ sessionId }) => ({ requests: sessionRequests(ctx.need(), sessionId) }),

    'batches.transactions': async (q) => sessionTransactions(ctx.need(), q),

    'batches.reasons': async ({ sessionId }) => ({ groups: reasonGroups(ctx.need(), sessionId) }),

    'transactions.inspect': async ({ id }, who) => {
      const s = ctx.need();
      const { history, ...tx } = inspectTransaction(s, id);
      const mayDecrypt = permissionsOf(who.role).includes('decrypt');
      let content: Record<string, unknown> | null = null;
      let contentError: ErrorCode | null = null;
      if (mayDecrypt) {
        try {
          content = decryptEnvelope(s, rowsOf(s.sql, incomingTransaction, 'SELECT * FROM incoming_transaction WHERE id = ?').get(id)!);
        } catch (e) {
          contentError = isEdcError(e) ? e.code : 'INTERNAL';
        }
      }
      const protectedFields: string[] = [];
      const decrypt = (raw: Record<string, [unknown, unknown]>) => {
        try {
          return decryptChanges(s, tx.envelope.txName, raw, protectedFields);
        } catch {
          return null;
        }
      };
      return {
        ...tx,
        history: history.map(({ raw, ...h }) => ({ ...h, changes: mayDecrypt ? decrypt(raw) : null })),
        content, contentHidden: !mayDecrypt, contentError, protectedFields,
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

    'conflicts.list': async ({ includeResolved, page, pageSize }) => ({
      total: countConflicts(ctx.need(), { includeResolved }),
      conflicts: listConflicts(ctx.need(), { includeResolved, page, pageSize }).map((c) => ({
        incomingId: c.incomingId, kind: c.kind, label: c.label, txName: c.txName, recordId: c.recordId, localRevision: c.localRevision, incomingBaseRevision: c.incomingBaseRevision,
        detectedAt: c.detectedAt, reason: c.reason, differences: c.differences, protectedFields: c.protectedFields,
        changedHereBy: (c.local?.user_modified as string | undefined) ?? null, changedIncomingBy: (c.incoming.user_modified as string | undefined) ?? null,
        resolvedAt: c.resolvedAt, resolution: c.resolution, resolvedBy: c.resolvedBy, canTakeIncoming: c.canTakeIncoming,
      })),
    }),

    'transactions.setAsidePlan': async ({ id }) => setAsidePlan(ctx.need(), id),

    'transactions.setAside': async ({ id, reason, withDependants, withAlike }, who) => {
      const { ids } = setAsideTransactions(ctx.need(), id, reason, ctx.actor(who), { withDependants, withAlike });
      ctx.changed('status');
      return { setAside: ids.length };
    },

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
