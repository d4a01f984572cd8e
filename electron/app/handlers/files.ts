/** File transfer: what waits to be written, Send files (export + SFTP), and importing the files that arrived (site, central). */
import { z } from 'zod';
import { importInThread } from '../../files/import-in-thread.ts';
import { exportBatches, pendingForExport, resendBatch } from '../../files/export.ts';
import { importSteps } from '../../files/import.ts';
import { drainYielding } from '../../core/steps.ts';
import { fileBatch } from '../../core/db/schema.ts';
import { rowsOf, shaped } from '../../core/db/typed.ts';
import { countRow } from '../../core/row-shapes.ts';
import { send } from '../../files/send.ts';
import { requireTargetSettings, targetLabel } from '../../files/targets/index.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

const quarantinedRow = z.object({ file_name: z.string(), reason: z.string().nullable(), at: z.string() });

export function fileHandlers(ctx: HandlerContext): AreaHandlers<'files.overview' | 'files.send' | 'files.import' | 'files.resend' | 'files.setAside'> {
  return {
    'files.overview': async ({ page, pageSize }) => {
      const s = ctx.need();
      const target = targetLabel(s.settings);
      const totalBatches = shaped(s.sql, countRow, 'SELECT count(*) AS n FROM file_batch').get()!.n;
      const batches = rowsOf(s.sql, fileBatch, 'SELECT * FROM file_batch ORDER BY batch_seq DESC LIMIT ? OFFSET ?').all(pageSize, page * pageSize).map((b) => ({
        batchId: b.batch_id, batchSeq: b.batch_seq, fileName: b.file_name, count: b.count,
        status: b.status, createdAt: b.created_at, sentAt: b.sent_at, acknowledgedAt: b.acknowledged_at, receipt: b.receipt,
      }));
      return { configured: target !== null, target, pendingTransactions: pendingForExport(s), batches, totalBatches };
    },

    'files.setAside': async ({ page, pageSize }) => {
      const s = ctx.need();
      const total = shaped(s.sql, countRow, "SELECT count(*) AS n FROM file_import WHERE status = 'quarantined'").get()!.n;
      const rows = shaped(s.sql, quarantinedRow, "SELECT file_name, reason, at FROM file_import WHERE status = 'quarantined' ORDER BY id DESC LIMIT ? OFFSET ?").all(pageSize, page * pageSize)
        .map((q) => ({ fileName: q.file_name, reason: q.reason, at: q.at }));
      return { rows, total };
    },

    'files.send': async () => ctx.exclusive('files.send', async () => {
      const s = ctx.need();
      // Nothing is exported when it cannot be sent (export alone is `edc-sync export`, e.g. to a USB stick).
      requireTargetSettings(s.settings);
      const onProgress = ctx.progress('files.send');
      const exported = exportBatches(s, undefined, onProgress);
      const r = await send(s, { onProgress });
      ctx.changed('status');
      const transactions = r.sent.reduce((n, b) => n + b.count, 0);
      const message = r.sent.length === 0 && exported.batches.length === 0
        ? `Nothing to send.${r.receipts.acknowledged.length ? ` ${r.receipts.acknowledged.length} receipt(s) confirmed earlier files.` : ''}`
        : `Sent ${r.sent.length} file(s) with ${transactions} transaction(s). They count as delivered when the receiver's receipt comes back.`;
      return { exported: exported.batches.length, sent: r.sent.length, transactions, receipts: r.receipts.acknowledged.length, message };
    }),

    'files.resend': async ({ batchId }) => ctx.exclusive('files.send', async () => {
      const r = resendBatch(ctx.need(), batchId);
      ctx.changed('status');
      return { batchSeq: r.batchSeq, count: r.count, fileName: r.fileName };
    }),

    'files.import': async () => ctx.exclusive('files.import', async () => {
      const s = ctx.need();
      // A web server on PostgreSQL imports in a thread of its own (each statement there is a synchronous round trip);
      // on SQLite, and in the desktop app's backend worker, a step at a time here.
      const r = ctx.opts.host === 'web' && s.sql.dialect === 'postgres'
        ? await importInThread(s.dir, ctx.progress('files.import'))
        : await drainYielding(importSteps(s, undefined, ctx.progress('files.import')));
      ctx.changed('batches');
      ctx.changed('status');
      const transactions = r.imported.reduce((n, b) => n + b.accepted, 0);
      const waitingFor = r.gaps.map((g) => `batch ${g.from}${g.to > g.from ? `–${g.to}` : ''} from ${g.producer}`);
      const parts = [
        r.imported.length ? `Imported ${r.imported.length} file(s) with ${transactions} new transaction(s); receipts written.` : 'No new files.',
        r.skipped.length ? `${r.skipped.length} already imported (skipped).` : '',
        r.quarantined.length ? `${r.quarantined.length} quarantined: ${r.quarantined[0]!.reason}. Ask the sender to send again.` : '',
        waitingFor.length ? `Waiting for ${waitingFor.join(', ')} before later files can be applied.` : '',
      ];
      return { imported: r.imported.length, transactions, skipped: r.skipped.length, quarantined: r.quarantined.length, waitingFor, message: parts.filter(Boolean).join(' ') };
    }),
  };
}
