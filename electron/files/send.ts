/**
 * `send`: to the file target the settings name (files/targets: SFTP to the central server, whose host key must be
 * the pinned one, or a folder such as a USB stick), written once for every target. First the receiver's new receipts
 * are read from the target's receipts/ and applied (delivery is acknowledged on import, not on export; believed as
 * the target is: files/receipts.ts viaOf). Then each written batch, in batch order: data file, then manifest, each
 * put atomically (temporary name, size checked, renamed: FileTarget.put); only then the local files move to
 * localArchiveDir. Any failure leaves the batch where it was for the next send. Media files go to the target's media
 * folder named by content hash; hidden and temporary files are skipped, none twice.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Progress } from '../../shared/api.ts';
import { EdcError, isEdcError } from '../../shared/errors.ts';
import { MANIFEST_SUFFIX } from '../../shared/files.ts';
import type { Store } from '../core/store.ts';
import { resolveDir } from './export.ts';
import { applyReceipts, receiptsFrom, viaOf, type ReceiptResult } from './receipts.ts';
import { openTarget, requireTargetSettings, type OpenTargets } from './targets/index.ts';
import { z } from 'zod';
import { shaped } from '../core/db/typed.ts';

const batchIdRow = z.object({ batch_id: z.string() });
const writtenBatch = z.object({ batch_id: z.string(), batch_seq: z.number(), file_name: z.string(), count: z.number(), bytes: z.number() });

export interface SendResult {
  receipts: ReceiptResult;
  sent: { fileName: string; batchSeq: number; count: number }[];
  media: { sent: number; skipped: number };
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function send(store: Store, opts: { onProgress?: (p: Progress) => void } = {}): Promise<SendResult> {
  const s = store.settings;
  requireTargetSettings(s);
  const localDir = resolveDir(store, s.localTransactionDir);
  const archive = resolveDir(store, s.localArchiveDir);
  try {
    mkdirSync(archive, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot create the archive folder ${archive}`, { cause });
  }
  const targets = await openTarget(s, store.dir);
  try {
    return await sendTo(store, targets, localDir, archive, opts);
  } catch (e) {
    throw isEdcError(e) ? e : new EdcError(targets.transactions.describe().kind === 'sftp' ? 'SFTP_FAILED' : 'IO_FAILED', (e as Error).message, { cause: e });
  } finally {
    await targets.close();
  }
}

async function sendTo(store: Store, { transactions: target, media: mediaTarget }: OpenTargets, localDir: string, archive: string, opts: { onProgress?: (p: Progress) => void }): Promise<SendResult> {
  const s = store.settings;
  const result: SendResult = { receipts: { acknowledged: [], ignored: 0, refused: [] }, sent: [], media: { sent: 0, skipped: 0 } };
  // 1. Receipts of what the receiver imported since last time.
  const waiting = new Set(shaped(store.sql, batchIdRow, "SELECT batch_id FROM file_batch WHERE status IN ('written', 'sent')").all().map((r) => r.batch_id));
  const receipts = waiting.size ? await receiptsFrom(target, 'receipts', waiting) : [];
  result.receipts = applyReceipts(store, receipts, { via: viaOf(target) });

  // 2. Written batches, in order.
  const batches = shaped(store.sql, writtenBatch, "SELECT batch_id, batch_seq, file_name, count, bytes FROM file_batch WHERE status = 'written' ORDER BY batch_seq").all();
  let done = 0;
  const total = batches.reduce((n, b) => n + b.count, 0);
  for (const b of batches) {
    for (const name of [b.file_name, b.file_name + MANIFEST_SUFFIX]) {
      const local = path.join(localDir, name);
      if (!existsSync(local)) {
        if (existsSync(path.join(archive, name)) || (await target.exists(name))) continue; // moved on an earlier, interrupted send
        throw new EdcError('IO_FAILED', `${local} is missing; run export again`);
      }
      const there = await target.stat(name);
      if (!there || there.size !== statSync(local).size) await target.put(name, { file: local });
    }
    for (const name of [b.file_name, b.file_name + MANIFEST_SUFFIX]) {
      if (existsSync(path.join(localDir, name))) renameSync(path.join(localDir, name), path.join(archive, name));
    }
    store.sql.prepare("UPDATE file_batch SET status = 'sent', sent_at = ? WHERE batch_id = ?").run(new Date().toISOString(), b.batch_id);
    result.sent.push({ fileName: b.file_name, batchSeq: b.batch_seq, count: b.count });
    done += b.count;
    opts.onProgress?.({ phase: 'send', done, total });
  }

  // 3. Media files by content hash.
  const mediaDir = resolveDir(store, s.localMediaDir);
  if (mediaTarget && existsSync(mediaDir)) {
    for (const f of readdirSync(mediaDir, { withFileTypes: true })) {
      if (!f.isFile() || f.name.startsWith('.') || /(\.tmp|\.part|~)$/.test(f.name)) continue;
      const local = path.join(mediaDir, f.name);
      const hash = await sha256File(local);
      const key = `media:${hash}`;
      const remoteName = `${hash}${path.extname(f.name).toLowerCase()}`;
      if (store.getState(key)) {
        result.media.skipped++;
        continue;
      }
      if (!(await mediaTarget.exists(remoteName))) await mediaTarget.put(remoteName, { file: local });
      store.setState(key, JSON.stringify({ file: f.name, sentAt: new Date().toISOString() }));
      result.media.sent++;
    }
  }
  return result;
}
