/**
 * Receive sessions: what one hand-over brought, as the Consumed batches screen shows it. A push session is every
 * request of one `push` (the device sends the same PUSH_SESSION_HEADER id with each); an older device sending no
 * id is grouped by the device and channel while its requests follow each other within SESSION_GAP_MS. A pull (a
 * middleman pulling a laptop) and a file are each one session, named by their batch id.
 */
import { z } from 'zod';
import type { ReceivedVia } from '../../shared/envelope.ts';
import { shaped } from './db/typed.ts';
import { uuidv7 } from './ids.ts';
import type { Store } from './store.ts';
import { idRow } from './row-shapes.ts';

const producersRow = z.object({ producers: z.string() });

/** An older device's requests further apart than this start a new session. */
export const SESSION_GAP_MS = 2 * 60_000;

export interface SessionSpec {
  id: string;
  via: ReceivedVia;
  /** Who handed it over: the pushing device, the laptop pulled from, the file's exporter. */
  device: string;
  clientSession?: string | null;
  label?: string | null;
}

/**
 * The session a push request belongs to (call inside the request's SQLite transaction, so two requests in flight
 * resolve to the same one). Nothing is written until the request stores something.
 */
export function pushSession(store: Store, via: ReceivedVia, device: string, clientSession: string | null, now = Date.now()): SessionSpec {
  const found = clientSession
    ? shaped(store.sql, idRow, 'SELECT id FROM receive_session WHERE device = ? AND client_session = ?').get(device, clientSession)
    : shaped(store.sql, idRow, `SELECT id FROM receive_session WHERE device = ? AND via = ? AND client_session IS NULL AND last_at >= ?
        ORDER BY last_at DESC LIMIT 1`).get(device, via, new Date(now - SESSION_GAP_MS).toISOString());
  return { id: found?.id ?? uuidv7(now), via, device, clientSession };
}

/** One request (or page, or file) stored `stored` transactions of `producers` into the session. */
export function recordSessionRequest(store: Store, spec: SessionSpec, producers: Iterable<string>, stored: number, at: string): void {
  const row = shaped(store.sql, producersRow, 'SELECT producers FROM receive_session WHERE id = ?').get(spec.id);
  const merged = [...new Set([...(row?.producers ? row.producers.split(',') : []), ...producers])].filter(Boolean).sort().join(',');
  if (!row) {
    store.sql.prepare(`INSERT INTO receive_session (id, via, device, client_session, label, started_at, last_at, requests, transactions, producers)
      VALUES (?,?,?,?,?,?,?,1,?,?)`).run(spec.id, spec.via, spec.device, spec.clientSession ?? null, spec.label ?? null, at, at, stored, merged);
  } else {
    store.sql.prepare('UPDATE receive_session SET last_at = ?, requests = requests + 1, transactions = transactions + ?, producers = ?, label = coalesce(label, ?) WHERE id = ?')
      .run(at, stored, merged, spec.label ?? null, spec.id);
  }
}
