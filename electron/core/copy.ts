/**
 * The original's DB→DB path (copy_to_incoming_transaction): the outgoing transactions of another store, read
 * through a read-only connection, become incoming transactions here. The source is never modified, so copying the
 * same store twice only counts duplicates. Each envelope is checked against its producer (core/trust.ts) like on
 * every channel: a site takes only its paired devices' transactions; a refused one is listed with the reason and
 * stores nothing, so its producer's sequence numbers stay free.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EdcError } from '../../shared/errors.ts';
import { Consumer, type IngestResult } from './consumer.ts';
import { SqlitePort } from './db/port.ts';
import { outgoingTransaction } from './db/schema.ts';
import { rowsOf, shaped } from './db/typed.ts';
import { toWire } from './envelope.ts';
import { countRow, producerRow } from './row-shapes.ts';
import { LAST_SYNC_KEY } from './status.ts';
import { DB_FILE, type Store } from './store.ts';


export interface CopyResult {
  accepted: number;
  duplicates: number;
  rejected: IngestResult['rejected'];
}

const CHUNK = 1000;

export function copyFrom(store: Store, sourceDir: string, onProgress?: (p: { done: number; total: number }) => void): CopyResult {
  const file = path.join(sourceDir, DB_FILE);
  if (!existsSync(file)) throw new EdcError('SOURCE_STORE_INVALID', `${sourceDir} has no ${DB_FILE}`);
  if (path.resolve(sourceDir) === path.resolve(store.dir)) throw new EdcError('SOURCE_STORE_INVALID', 'a store cannot copy from itself');
  let source: Database.Database;
  try {
    source = new Database(file, { readonly: true, fileMustExist: true });
    source.prepare('SELECT 1 FROM outgoing_transaction LIMIT 1').get();
  } catch (cause) {
    throw new EdcError('SOURCE_STORE_INVALID', `${file}: ${(cause as Error).message}`, { cause });
  }
  const consumer = new Consumer(store);
  const result: CopyResult = { accepted: 0, duplicates: 0, rejected: [] };
  try {
    const port = new SqlitePort(source);
    const total = shaped(port, countRow, 'SELECT count(*) AS n FROM outgoing_transaction').get()!.n;
    const producers = shaped(port, producerRow, 'SELECT DISTINCT producer FROM outgoing_transaction').all().map((r) => r.producer);
    // Keyset pagination on the (producer, producer_seq) index: each page is an index range, never a scan.
    // `*`: a store of an older version (read as it is, never migrated) has no sig column; toWire takes what exists.
    // Whole rows (rowsOf: no check per row, however large the store).
    const page = rowsOf(port, outgoingTransaction, `SELECT *
      FROM outgoing_transaction WHERE producer = ? AND producer_seq > ? ORDER BY producer_seq LIMIT ${CHUNK}`);
    let done = 0;
    for (const producer of producers) {
      for (let after = 0; ;) {
        const rows = page.all(producer, after);
        if (rows.length === 0) break;
        const r = consumer.ingest(rows.map(toWire), 'copy');
        result.accepted += r.accepted.length;
        result.duplicates += r.duplicates.length;
        result.rejected.push(...r.rejected);
        after = rows[rows.length - 1]!.producer_seq;
        done += rows.length;
        onProgress?.({ done, total });
      }
    }
  } finally {
    source.close();
  }
  store.setState(LAST_SYNC_KEY, new Date().toISOString());
  return result;
}
