/**
 * Delivery is acknowledged on import, not on export: a receipt from the receiver marks the batch's transactions
 * delivered (isConsumedServer for own ones, forwarded_at for those travelling on), once it is believed: signed by
 * the receiver's key on record here (files/signing.ts), for the batch and the file that were sent (count, sha256).
 * Receipts of other devices' batches, or for batches this device does not know, are ignored; the rest are refused
 * with a reason and mark nothing.
 */
import { existsSync } from 'node:fs';
import { EdcError, isEdcError } from '../../shared/errors.ts';
import { receiptSchema, type Receipt } from '../../shared/files.ts';
import { toRanges } from '../../shared/fleet.ts';
import { recordAtCentral } from '../core/fleet.ts';
import { LAST_SYNC_KEY } from '../core/status.ts';
import type { Store } from '../core/store.ts';
import { checkDocument, pinPeerKey, RECEIPT_DOMAIN } from './signing.ts';
import { FolderTarget } from './targets/folder.ts';
import type { FileTarget } from './targets/target.ts';
import { z } from 'zod';
import { shaped } from '../core/db/typed.ts';

const sentBatch = z.object({ status: z.string(), count: z.number(), sha256: z.string().nullable() });
const producerSeq = z.object({ producer: z.string(), producer_seq: z.number() });

/** A receipt's bytes at most (one names at most 500 producers). */
const MAX_RECEIPT_BYTES = 1024 * 1024;

export interface ReceiptResult {
  acknowledged: { batchId: string; batchSeq: number; count: number; errors: number }[];
  ignored: number;
  /** Receipts for this device's batches that were not believed: nothing they name was marked delivered. */
  refused: { batchId: string; reason: string }[];
}

export interface ReceiptOptions {
  /**
   * How the receipts came: `sftp` (from an authenticated target, the receiver's server, which the host key
   * authenticates: an unknown receiver's key is pinned at its first signed receipt, and an older receiver's unsigned
   * receipts are taken) or `usb` (a folder anyone could have written: only receipts signed under a key already on
   * record here count). viaOf(target) tells which a target is.
   */
  via: 'sftp' | 'usb';
}

/** How receipts read from this target are believed (ReceiptOptions.via). */
export function viaOf(target: FileTarget): ReceiptOptions['via'] {
  return target.describe().authenticated ? 'sftp' : 'usb';
}

export function applyReceipts(store: Store, receipts: Receipt[], opts: ReceiptOptions): ReceiptResult {
  const result: ReceiptResult = { acknowledged: [], ignored: 0, refused: [] };
  const batch = shaped(store.sql, sentBatch, 'SELECT status, count, sha256 FROM file_batch WHERE batch_id = ? AND batch_seq = ?');
  const byBatch = shaped(store.sql, producerSeq, 'SELECT producer, producer_seq FROM incoming_transaction WHERE export_batch_id = ? ORDER BY producer, producer_seq');
  store.sql.transaction(() => {
    for (const r of receipts) {
      const b = batch.get(r.batchId, r.batchSeq);
      if (r.producer !== store.deviceId || !b || b.status === 'acknowledged') {
        result.ignored++;
        continue;
      }
      const refuse = (reason: string) => { result.refused.push({ batchId: r.batchId, reason }); };
      const signature = checkDocument(store, RECEIPT_DOMAIN, r, r.receiver, 'receipt', { mayPin: opts.via === 'sftp' });
      if (!signature.ok) { refuse(signature.reason); continue; }
      if (!signature.signed && opts.via !== 'sftp') { refuse(`the receipt is not signed; on a USB stick only a receipt signed by ${r.receiver}'s known key counts`); continue; }
      if (r.count !== b.count) { refuse(`the receipt says ${r.count} transactions, the batch sent had ${b.count}`); continue; }
      if (b.sha256 && r.sha256 !== b.sha256) { refuse('the receipt names another file than the one sent (its sha256 differs)'); continue; }
      if (signature.pinned) pinPeerKey(store, r.receiver, signature.pinned, 'sftp');
      const at = r.importedAt;
      store.sql.prepare("UPDATE file_batch SET status = 'acknowledged', acknowledged_at = ?, receipt = ? WHERE batch_id = ?").run(new Date().toISOString(), JSON.stringify(r), r.batchId);
      store.sql.prepare('UPDATE outgoing_transaction SET is_consumed_server = 1, consumed_server_at = ?, consumer_server = ? WHERE batch_id = ? AND is_consumed_server = 0').run(at, r.receiver, r.batchId);
      store.sql.prepare('UPDATE incoming_transaction SET forwarded_at = ? WHERE export_batch_id = ? AND forwarded_at IS NULL').run(at, r.batchId);
      // A site's receipts come from central: what central now holds of each original producer, to hand back down.
      if (store.role === 'site') {
        const seqs = new Map<string, number[]>();
        for (const row of byBatch.all(r.batchId)) seqs.set(row.producer, [...(seqs.get(row.producer) ?? []), row.producer_seq]);
        for (const [p, list] of seqs) recordAtCentral(store, p, toRanges(list));
        for (const h of r.held ?? []) if (h.contiguous > 0) recordAtCentral(store, h.producer, [[1, h.contiguous]]);
      }
      result.acknowledged.push({ batchId: r.batchId, batchSeq: r.batchSeq, count: b.count, errors: r.errors });
    }
  });
  if (result.acknowledged.length) store.setState(LAST_SYNC_KEY, new Date().toISOString());
  return result;
}

/**
 * The receipts in a target's `dir` (by default its receipts/ folder), read the same way from every target: regular
 * `*.json` files of a receipt's size that parse as a receipt; anything else is passed over (receipts are advisory
 * input: a bad one can only fail to acknowledge). `only`: just the receipts of these batch ids (named `<batchId>.json`).
 */
export async function receiptsFrom(target: FileTarget, dir = 'receipts', only?: ReadonlySet<string>): Promise<Receipt[]> {
  const out: Receipt[] = [];
  for (const f of await target.list(dir)) {
    if (!f.name.endsWith('.json') || f.name.startsWith('.')) continue;
    if (only && !only.has(f.name.slice(0, -'.json'.length))) continue;
    if (f.size > MAX_RECEIPT_BYTES) continue;
    let data: Buffer;
    try {
      data = await target.read(dir ? `${dir}/${f.name}` : f.name, MAX_RECEIPT_BYTES);
    } catch (e) {
      if (isEdcError(e) && e.code === 'IO_FAILED') continue; // gone meanwhile, or not a regular file after all
      throw e;
    }
    try {
      const parsed = receiptSchema.safeParse(JSON.parse(data.toString('utf8')));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // not JSON: not a receipt
    }
  }
  return out;
}

/** Receipts from a folder (the USB path: the stick comes back with the receiver's receipts/, or the receipts themselves). */
export async function readReceiptsDir(dir: string): Promise<Receipt[]> {
  if (!existsSync(dir)) throw new EdcError('IO_FAILED', `${dir} does not exist`);
  const target = new FolderTarget(dir);
  return receiptsFrom(target, (await target.exists('receipts')) ? 'receipts' : '');
}
