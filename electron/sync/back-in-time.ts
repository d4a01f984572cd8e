/**
 * A laptop that went back in time (issue 9, deliverable 10): restored from a backup, or its last writes lost with a
 * `-wal` tail, it numbers new changes with producerSeq values the receiver already holds under other transaction
 * ids, and every push would be refused for them ("already taken by another transaction id").
 *
 * At pre-flight the receiver says up to which producerSeq it holds everything of this device (its high-water mark).
 * Own transactions at or below that mark that it neither took nor counted as duplicates are held there under other
 * ids: they reached no one (never delivered, with no middleman, in no file), so they are renumbered past the mark
 * and past this device's own last number, in their order, re-encrypted and re-signed for their new numbers (the
 * number is bound into the ciphertext and the signature). Every change is kept; what the receiver already holds
 * (the restored rows it counted as duplicates, and what it got before the backup was restored) is not made again.
 */
import { outgoingTransaction } from '../core/db/schema.ts';
import { rowsOf, shaped } from '../core/db/typed.ts';
import { envelopeAad, envelopeSignedBytes } from '../core/envelope.ts';
import { countRow } from '../core/row-shapes.ts';
import type { Store } from '../core/store.ts';
import { jsonValues } from '../core/db/dialect.ts';

export interface Renumbered {
  ids: string[];
  count: number;
  /** The receiver's high-water mark for this device at pre-flight. */
  mark: number;
  /** This device's own last producerSeq before renumbering. */
  ownLast: number;
  from: number;
  to: number;
}

/** This device's own highest producerSeq (0 with none). */
export function ownLastSeq(store: Store): number {
  return shaped(store.sql, countRow, 'SELECT coalesce(max(producer_seq), 0) AS n FROM outgoing_transaction WHERE producer = ?').get(store.deviceId)!.n;
}

/**
 * Of `ids` (own transactions the receiver refused), those at or below `mark` that reached no one get new numbers
 * after max(mark, own last). One SQLite transaction. Null when none qualifies.
 */
export function renumberPastMark(store: Store, ids: readonly string[], mark: number): Renumbered | null {
  if (ids.length === 0 || mark === 0) return null;
  const keys = store.requireKeys();
  return store.guarded(() => {
    const ownLast = ownLastSeq(store);
    const rows = rowsOf(store.sql, outgoingTransaction, `SELECT * FROM outgoing_transaction WHERE producer = ? AND producer_seq <= ? AND is_consumed_server = 0
      AND is_consumed_middleman = 0 AND batch_id IS NULL AND id IN (${jsonValues(store.sql.dialect)}) ORDER BY producer_seq`)
      .all(store.deviceId, mark, JSON.stringify(ids));
    if (rows.length === 0) return null;
    const update = store.sql.prepare('UPDATE outgoing_transaction SET producer_seq = ?, key_id = ?, tx = ?, sig = ? WHERE id = ?');
    let seq = Math.max(mark, ownLast);
    const from = seq + 1;
    for (const r of rows) {
      seq++;
      const plain = keys.decrypt(r.key_id, r.tx, envelopeAad(r));
      const moved = { ...r, producer_seq: seq };
      const { keyId, blob } = keys.encrypt(plain, envelopeAad(moved));
      const sig = store.signingKey.sign(envelopeSignedBytes({ ...moved, key_id: keyId, tx: blob }));
      update.run(seq, keyId, blob, sig, r.id);
    }
    return { ids: rows.map((r) => r.id), count: rows.length, mark, ownLast, from, to: seq };
  });
}

/** What the laptop says when it renumbered (the CLI and the Sync result). */
export function renumberedSentence(deviceId: string, receiver: string, r: Renumbered): string {
  const why = r.ownLast < r.mark
    ? `${receiver} already holds ${deviceId}'s changes up to ${r.mark}, this laptop's own went only to ${r.ownLast}`
    : `${receiver} already holds ${deviceId}'s changes up to ${r.mark} under numbers this laptop used again`;
  return `this laptop went back in time (restored from a backup, or its last changes were lost): ${why}; `
    + `${r.count} change(s) that had reached no one were renumbered ${r.from}–${r.to} and sent, every one kept`;
}

/** What the laptop says when the receiver holds more of its changes than it has (nothing to renumber, or before it). */
export function behindSentence(deviceId: string, receiver: string, b: { mark: number; ownLast: number }): string {
  return `this laptop is behind ${receiver}: ${receiver} holds ${deviceId}'s changes up to ${b.mark}, this laptop's own go only to ${b.ownLast} `
    + `(restored from a backup, or its last changes were lost); the changes after ${b.ownLast} are safe at ${receiver} but no longer on this laptop, `
    + 'and new ones are numbered after what the server holds when they are sent';
}
