/** The field share ("Let the driver pull"), the middleman's pull, and specimen reconciliation against the requisitions held here. */
import type { ExpectedSpecimen, ShareState } from '../../../shared/contract.ts';
import { EdcError } from '../../../shared/errors.ts';
import { reconcile } from '../../../shared/reconcile.ts';
import type { Store } from '../../core/store.ts';
import { pull } from '../../sync/pull.ts';
import { startShare, type Share } from '../../sync/share.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

const IDLE_SHARE: ShareState = { active: false, url: null, code: null, middleman: null, acknowledged: 0, waiting: 0, closedReason: null };

export function middlemanHandlers(ctx: HandlerContext): AreaHandlers<'share.start' | 'share.stop' | 'share.state' | 'pull.run' | 'reconciliation.expected' | 'reconciliation.save'> {
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
      const waiting = () => (s.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0 AND is_consumed_middleman = 0').get() as { n: number }).n;
      let acknowledged = 0;
      const started = await startShare(s, {
        host, port: 0, idleMs: idleMinutes * 60_000,
        onSession: (middleman) => setShare({ ...shareState, middleman }),
        onAck: (p) => {
          acknowledged = p.acknowledged;
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

    'reconciliation.expected': async ({ producer }) => expectedSpecimens(ctx.need(), producer),

    'reconciliation.save': async ({ producer, location, scanned }, who) => {
      const s = ctx.need();
      const { specimens } = expectedSpecimens(s, producer);
      const result = reconcile(specimens.map((x) => x.requisitionIdentifier), scanned);
      const row = ctx.study().reconcile({
        reconciledAt: new Date().toISOString(), location,
        matched: JSON.stringify(result.matched), missing: JSON.stringify(result.missing), unexpected: JSON.stringify(result.unexpected),
      }, ctx.actor(who));
      ctx.changed('status');
      return { reconciliationIdentifier: String(row.reconciliation_identifier), ...result };
    },
  };
}

/** Requisitions here not yet matched by any reconciliation record (optionally one laptop's). */
function expectedSpecimens(store: Store, producer?: string): { specimens: ExpectedSpecimen[]; producers: string[] } {
  const reconciled = new Set<string>();
  for (const r of store.sql.prepare('SELECT matched FROM specimen_reconciliation').all() as { matched: string }[]) {
    for (const id of JSON.parse(r.matched) as string[]) reconciled.add(id);
  }
  const rows = store.sql.prepare(`SELECT r.requisition_identifier, r.panel, r.specimen_type, r.drawn_datetime, r.device_id, s.subject_identifier
      FROM specimen_requisition r LEFT JOIN visit v ON v.id = r.visit_id LEFT JOIN subject s ON s.id = v.subject_id
      ORDER BY r.device_id, r.requisition_identifier`).all() as Record<string, string | null>[];
  const all = rows.filter((r) => !reconciled.has(String(r.requisition_identifier))).map((r) => ({
    requisitionIdentifier: String(r.requisition_identifier), subjectIdentifier: r.subject_identifier ?? null, panel: String(r.panel),
    specimenType: String(r.specimen_type), drawnDatetime: String(r.drawn_datetime), producer: String(r.device_id),
  }));
  return { specimens: producer ? all.filter((s) => s.producer === producer) : all, producers: [...new Set(all.map((s) => s.producer))].sort() };
}
