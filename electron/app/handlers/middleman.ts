/** The field share ("Let the driver pull"), the middleman's pull, and specimen reconciliation against the requisitions held here. */
import { z } from 'zod';
import type { ShareState } from '../../../shared/contract.ts';
import { EdcError } from '../../../shared/errors.ts';
import { reconcile } from '../../../shared/reconcile.ts';
import type { Scope } from '../../../shared/specimens.ts';
import { canonicalReasons, canonicalTubes, CustodyBook, flaggedChains, pullHandoverOf, signReceipt } from '../../core/custody.ts';
import { expectedTubes, firstWithoutReason, listPulls, sources } from '../../core/specimens.ts';
import { shaped } from '../../core/db/typed.ts';
import { countRow } from '../../core/row-shapes.ts';
import type { Store } from '../../core/store.ts';
import { pull } from '../../sync/pull.ts';
import { startShare, type Share } from '../../sync/share.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

const firstReceived = z.object({ at: z.string().nullable() });

const IDLE_SHARE: ShareState = { active: false, url: null, code: null, middleman: null, acknowledged: 0, waiting: 0, closedReason: null };

export function middlemanHandlers(ctx: HandlerContext): AreaHandlers<'share.start' | 'share.stop' | 'share.state' | 'pull.run' | 'reconciliation.expected' | 'reconciliation.save' | 'specimens.settings' | 'custody.chain' | 'custody.flagged'> {
  let share: Share | null = null;
  let shareState: ShareState = IDLE_SHARE;
  const setShare = (next: ShareState) => {
    shareState = next;
    ctx.opts.emit({ type: 'share', state: next });
  };
  ctx.onClose(async () => {
    if (share) await share.stop();
  });
  return {
    'share.start': async ({ host, idleMinutes }) => {
      const s = ctx.need();
      if (share) throw new EdcError('SHARE_ACTIVE');
      const waiting = () => shaped(s.sql, countRow, 'SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0 AND is_consumed_middleman = 0').get()!.n;
      let acknowledged = 0;
      const started = await startShare(s, {
        host, port: 0, idleMs: idleMinutes * 60_000,
        onSession: (middleman) => setShare({ ...shareState, middleman }),
        onAck: (p) => {
          // Each acknowledgement is one page: the driver took the sum of them, not the last page's count.
          acknowledged += p.acknowledged;
          setShare({ ...shareState, acknowledged, waiting: p.total });
        },
      });
      share = started;
      setShare({ active: true, url: started.url, code: started.code, middleman: null, acknowledged: 0, waiting: waiting(), closedReason: null });
      void started.closed.then((why) => {
        share = null;
        setShare({ ...shareState, active: false, code: null, closedReason: why, waiting: waiting() });
        ctx.changed('status');
      });
      return shareState;
    },

    'share.stop': async () => {
      if (share) await share.stop();
      return shareState;
    },

    'share.state': async () => shareState,

    'pull.run': async ({ url, code }) => ctx.exclusive('pull.run', async () => {
      const r = await pull(ctx.need(), url, code, { onProgress: ctx.progress('pull.run') });
      ctx.changed('status');
      return { producer: r.producer, received: r.received, duplicates: r.duplicates, rejected: r.rejected.length, consumed: r.consumed };
    }),

    'specimens.settings': async () => {
      const { stabilityMinutes, labelWidthMm, labelHeightMm } = ctx.need().settings;
      return { stabilityMinutes, labelWidthMm, labelHeightMm };
    },

    'custody.chain': async ({ tube }) => {
      const book = new CustodyBook(ctx.need(), { tubes: [tube] });
      return { chain: book.chain(tube), records: book.recordCount };
    },

    'custody.flagged': async ({ page, pageSize }) => flaggedChains(ctx.need(), { page, pageSize }),

    'reconciliation.expected': async ({ scope }) => {
      const s = ctx.need();
      const pulls = s.role === 'middleman' ? listPulls(s) : [];
      const { producers, drivers } = sources(s);
      const chosen: Scope | null = scope ?? (s.role === 'middleman' ? { kind: 'pull' } : null);
      if (!chosen) return { scope: null, fromDevice: null, specimens: [], pulls, producers, drivers };
      const r = expectedTubes(s, chosen);
      return { scope: r.scope, fromDevice: r.fromDevice, specimens: r.specimens, pulls, producers, drivers };
    },

    'reconciliation.save': async ({ scope, location, scanned, reasons, missingConfirmed }, who) => {
      const s = ctx.need();
      const expected = expectedTubes(s, scope);
      const result = reconcile(expected.specimens.map((x) => x.requisitionIdentifier), scanned);
      if (result.missing.length !== missingConfirmed) {
        throw new EdcError('INPUT_INVALID', `the list changed while you scanned: ${result.missing.length} tube(s) are missing now, not ${missingConfirmed}. Check the lists and press Finish again`);
      }
      const without = firstWithoutReason(result.missing, result.unexpected, reasons);
      if (without) throw new EdcError('INPUT_INVALID', `tube ${without} needs a reason (why it is missing, or what was done with it)`);
      const kept = Object.fromEntries([...result.missing, ...result.unexpected].map((c) => [c, reasons[c]!]));
      const study = ctx.study();
      const actor = ctx.actor(who);
      const now = new Date().toISOString();
      const { rec, custody } = study.write.batch(() => {
        const rec = study.reconcile({
          reconciledAt: now, location,
          matched: JSON.stringify(result.matched), missing: JSON.stringify(result.missing), unexpected: JSON.stringify(result.unexpected),
        }, actor);
        // The giver's signed statement, where there is one (the laptop's at this pull); else the expected list, unsigned
        // here (a driver's offer, signed by the driver, is its own record: see core/custody.ts).
        const statement = expected.scope.kind === 'pull' && expected.scope.batchId ? pullHandoverOf(s, expected.scope.batchId) : null;
        const custody = study.custody({
          kind: s.role === 'middleman' ? 'pull' : scope.kind === 'driver' ? 'delivery' : 'handover',
          fromDevice: statement?.fromDevice ?? expected.fromDevice ?? 'unknown', toDevice: s.deviceId, scope: JSON.stringify(expected.scope),
          handedAt: statement?.handedAt ?? handedAt(s, expected.scope, now),
          tubes: statement?.tubes ?? canonicalTubes(expected.specimens.map((x) => x.requisitionIdentifier)),
          handoverKey: statement?.handoverKey ?? null, handoverSig: statement?.handoverSig ?? null,
          receivedAt: now, matched: canonicalTubes(result.matched), missing: canonicalTubes(result.missing), unexpected: canonicalTubes(result.unexpected),
          reasons: canonicalReasons(kept), receiptKey: null, receiptSig: null,
          reconciliationIdentifier: String(rec.reconciliation_identifier),
        }, actor, (r) => signReceipt(s, {
          custodyIdentifier: r.custodyIdentifier, kind: r.kind, fromDevice: r.fromDevice, toDevice: s.deviceId, scope: r.scope, handedAt: r.handedAt,
          tubes: r.tubes, handoverKey: r.handoverKey, handoverSig: r.handoverSig, receivedAt: now,
          matched: r.matched ?? '[]', missing: r.missing ?? '[]', unexpected: r.unexpected ?? '[]', reasons: r.reasons ?? '{}',
        }));
        return { rec, custody };
      });
      ctx.changed('status');
      return { reconciliationIdentifier: String(rec.reconciliation_identifier), custodyIdentifier: String(custody.custody_identifier), ...result };
    },
  };
}

/** When the tubes changed hands: a pull's time on this device's clock, otherwise now. */
function handedAt(store: Store, scope: Scope, now: string): string {
  if (scope.kind !== 'pull' || !scope.batchId) return now;
  const r = shaped(store.sql, firstReceived, 'SELECT min(received_at) AS at FROM incoming_transaction WHERE batch_id = ?').get(scope.batchId)!;
  return r.at ?? now;
}
