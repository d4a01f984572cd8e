/**
 * `export [--out DIR]`: pending transactions → size-capped batch files. Each batch is first allocated in the store
 * (number, id, its transactions assigned) in one SQLite transaction, then its file and manifest are written under
 * temporary names, flushed and renamed (manifest last). A crash never leaves a half file under a final name, and
 * the next export rewrites any allocated batch whose file is missing, identically.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Progress } from '../../shared/api.ts';
import { EdcError } from '../../shared/errors.ts';
import { batchFileName, MANIFEST_SUFFIX, type Manifest } from '../../shared/files.ts';
import { SCHEMA_VERSION } from '../core/domain/registry.ts';
import { toWire, type EnvelopeRow } from '../core/envelope.ts';
import { MANIFEST_DOMAIN, signDocument } from './signing.ts';
import { issueDeviceList } from '../core/device-list.ts';
import { carriedStates, ownState } from '../core/fleet.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Store } from '../core/store.ts';
import { APP_VERSION } from '../core/version.ts';
import { z } from 'zod';
import { fileBatch, incomingTransaction, outgoingTransaction } from '../core/db/schema.ts';
import { rowsOf, shaped } from '../core/db/typed.ts';
import { countRow, producerRow } from '../core/row-shapes.ts';

const pendingRow = z.object({ id: z.string(), tx: z.instanceof(Buffer), producer_seq: z.number() });
const batchRef = z.object({ batch_id: z.string(), batch_seq: z.number() });
const batchStatus = z.object({ batch_id: z.string(), status: z.string() });

export const BATCH_MAX_COUNT = 5000;
export const BATCH_MAX_BYTES = 8 * 1024 * 1024;

export interface ExportResult {
  dir: string;
  batches: { fileName: string; batchSeq: number; count: number }[];
}

/**
 * Writes `data` to `file` via a temporary name: flushed to disk, then renamed. The temporary name is created afresh
 * (O_EXCL): a link planted under it in a folder others can write (a USB stick) is removed, never written through.
 */
export function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${path.dirname(file)}/.${path.basename(file)}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function resolveDir(store: Store, dir: string): string {
  return path.resolve(store.dir, dir);
}

/** Transactions no batch file holds yet: this device's undelivered ones, and (middleman, site) what it passes on. */
export function pendingForExport(store: Store): number {
  return (shaped(store.sql, countRow, 'SELECT count(*) AS n FROM outgoing_transaction WHERE batch_id IS NULL AND is_consumed_server = 0').get()?.n ?? 0)
    + (store.role === 'field' ? 0 : shaped(store.sql, countRow, 'SELECT count(*) AS n FROM incoming_transaction WHERE export_batch_id IS NULL AND forwarded_at IS NULL').get()?.n ?? 0);
}

export function exportBatches(store: Store, outDir?: string, onProgress?: (p: Progress) => void): ExportResult {
  if (store.role === 'central') throw new EdcError('ROLE_NOT_ALLOWED', 'the central server imports files; it does not export them');
  const dir = outDir ? path.resolve(outDir) : resolveDir(store, store.settings.localTransactionDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot create ${dir}`, { cause });
  }
  const result: ExportResult = { dir, batches: [] };
  const pendingOwn = shaped(store.sql, pendingRow, `SELECT id, tx, producer_seq FROM outgoing_transaction WHERE producer = ? AND producer_seq > ?
    AND batch_id IS NULL AND is_consumed_server = 0 ORDER BY producer_seq LIMIT ?`);
  const pendingForwarded = shaped(store.sql, pendingRow, `SELECT id, tx, producer_seq FROM incoming_transaction WHERE producer = ? AND producer_seq > ?
    AND export_batch_id IS NULL AND forwarded_at IS NULL ORDER BY producer_seq LIMIT ?`);
  const assignOwn = store.sql.prepare('UPDATE outgoing_transaction SET batch_id = ?, batch_seq = ? WHERE id = ?');
  const assignForwarded = store.sql.prepare('UPDATE incoming_transaction SET export_batch_id = ? WHERE id = ?');
  const total = pendingForExport(store);

  // 1. Batches allocated earlier whose files were never completed (a crash): write them again.
  for (const b of shaped(store.sql, batchRef, "SELECT batch_id, batch_seq FROM file_batch WHERE status = 'pending' ORDER BY batch_seq").all()) {
    result.batches.push(writeBatch(store, dir, b.batch_id));
  }

  // 2. New batches: own transactions first, then (site, middleman) received ones travelling on, producer by producer.
  const producers = store.role === 'field' ? [] : shaped(store.sql, producerRow, 'SELECT producer FROM producer_cursor ORDER BY producer').all().map((r) => r.producer);
  const sources: { producer: string; own: boolean }[] = [{ producer: store.deviceId, own: true }, ...producers.map((p) => ({ producer: p, own: false }))];
  let done = 0;
  for (const src of sources) {
    let after = 0;
    for (;;) {
      const rows = (src.own ? pendingOwn : pendingForwarded).all(src.producer, after, BATCH_MAX_COUNT);
      if (rows.length === 0) break;
      let bytes = 0;
      let n = 0;
      while (n < rows.length && (n === 0 || bytes + rows[n]!.tx.length * 1.34 + 400 <= BATCH_MAX_BYTES)) {
        bytes += rows[n]!.tx.length * 1.34 + 400;
        n++;
      }
      const chosen = rows.slice(0, n);
      after = chosen[chosen.length - 1]!.producer_seq;
      const batchId = store.sql.transaction(() => {
        const last = shaped(store.sql, batchRef, 'SELECT batch_id, batch_seq FROM file_batch ORDER BY batch_seq DESC LIMIT 1').get();
        const id = uuidv7();
        const seq = (last?.batch_seq ?? 0) + 1;
        store.sql.prepare("INSERT INTO file_batch (batch_id, batch_seq, previous_batch_id, status, file_name, count, created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)")
          .run(id, seq, last?.batch_id ?? null, batchFileName(store.deviceId, seq, id), chosen.length, new Date().toISOString());
        for (const r of chosen) {
          if (src.own) assignOwn.run(id, seq, r.id);
          else assignForwarded.run(id, r.id);
        }
        return id;
      });
      result.batches.push(writeBatch(store, dir, batchId));
      done += chosen.length;
      onProgress?.({ phase: 'export', done, total });
    }
  }
  return result;
}

/**
 * `export --resend BATCH`: the batch written again, byte for byte (data file and manifest), under its original
 * number and id, e.g. after the receiver quarantined a copy damaged on the way or a stick was lost. A batch not yet
 * acknowledged goes out with the next send again; the receiver imports it, or (already imported) answers with its
 * receipt again.
 */
export function resendBatch(store: Store, batch: string, outDir?: string): { dir: string; fileName: string; batchSeq: number; count: number } {
  if (store.role === 'central') throw new EdcError('ROLE_NOT_ALLOWED', 'the central server imports files; it does not export them');
  const row = /^\d+$/.test(batch)
    ? shaped(store.sql, batchStatus, 'SELECT batch_id, status FROM file_batch WHERE batch_seq = ?').get(Number(batch))
    : shaped(store.sql, batchStatus, 'SELECT batch_id, status FROM file_batch WHERE batch_id = ? OR file_name = ?').get(batch, batch);
  if (!row) throw new EdcError('RECORD_NOT_FOUND', `this device exported no batch ${batch} (give its number or id, as File transfer lists them)`);
  const dir = outDir ? path.resolve(outDir) : resolveDir(store, store.settings.localTransactionDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot create ${dir}`, { cause });
  }
  const written = writeBatch(store, dir, row.batch_id);
  if (row.status === 'acknowledged' || row.status === 'sent') {
    // Sent already: back to written so the next send uploads it again (an acknowledged one stays acknowledged).
    store.sql.prepare("UPDATE file_batch SET status = CASE WHEN ? = 'acknowledged' THEN 'acknowledged' ELSE 'written' END WHERE batch_id = ?").run(row.status, row.batch_id);
  }
  return { dir, ...written };
}

/** Writes one allocated batch (data file, then manifest) and marks it written. Deterministic for a given batch. */
function writeBatch(store: Store, dir: string, batchId: string): { fileName: string; batchSeq: number; count: number } {
  const batch = rowsOf(store.sql, fileBatch, 'SELECT * FROM file_batch WHERE batch_id = ?').get(batchId);
  if (!batch) throw new EdcError('STORE_CORRUPT', `export batch ${batchId} is not recorded`);
  const rows: EnvelopeRow[] = [
    ...rowsOf(store.sql, outgoingTransaction, 'SELECT * FROM outgoing_transaction WHERE batch_id = ? ORDER BY producer_seq').all(batchId),
    ...rowsOf(store.sql, incomingTransaction, 'SELECT * FROM incoming_transaction WHERE export_batch_id = ? ORDER BY producer, producer_seq').all(batchId),
  ];
  if (rows.length === 0) throw new EdcError('STORE_CORRUPT', `export batch ${batchId} has no transactions`);
  const data = gzipSync(rows.map((r) => JSON.stringify(toWire(r))).join('\n') + '\n', { level: 1 }); // Node's gzip header carries no timestamp: same batch, same bytes
  const sha256 = createHash('sha256').update(data).digest('hex');
  const ranges = new Map<string, { producer: string; first: number; last: number; count: number }>();
  for (const r of rows) {
    const g = ranges.get(r.producer) ?? { producer: r.producer, first: r.producer_seq, last: r.producer_seq, count: 0 };
    g.first = Math.min(g.first, r.producer_seq);
    g.last = Math.max(g.last, r.producer_seq);
    g.count++;
    ranges.set(r.producer, g);
  }
  const manifest: Manifest = {
    format: 'edc-sync-batch', version: 1, producer: store.deviceId, batchSeq: batch.batch_seq, batchId, previousBatchId: batch.previous_batch_id,
    fileName: batch.file_name, count: rows.length, ranges: [...ranges.values()], sha256, bytes: data.length, appVersion: APP_VERSION,
    schemaVersion: SCHEMA_VERSION, createdAt: batch.created_at,
    state: ownState(store),
    // A site's paired devices and their keys: central verifies each envelope's signature under its producer's key.
    ...(store.role === 'site' ? { deviceList: issueDeviceList(store) } : {}),
  };
  const carried = carriedStates(store, [...ranges.keys()].filter((p) => p !== store.deviceId));
  if (carried.length) manifest.carried = carried;
  // The importer checks the signature under this device's key. Written once: a batch written again (after a crash
  // before its status was saved, or `export --resend`) carries the same manifest, byte for byte.
  const manifestText = batch.manifest ?? `${JSON.stringify(signDocument(store, MANIFEST_DOMAIN, manifest), null, 2)}\n`;
  try {
    writeAtomic(path.join(dir, batch.file_name), data);
    writeAtomic(path.join(dir, batch.file_name + MANIFEST_SUFFIX), manifestText);
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot write ${batch.file_name} in ${dir}`, { cause });
  }
  store.sql.prepare(`UPDATE file_batch SET status = CASE WHEN status = 'pending' THEN 'written' ELSE status END, sha256 = ?, bytes = ?,
    written_at = coalesce(written_at, ?), manifest = ? WHERE batch_id = ?`).run(sha256, data.length, new Date().toISOString(), manifestText, batchId);
  return { fileName: batch.file_name, batchSeq: batch.batch_seq, count: rows.length };
}
