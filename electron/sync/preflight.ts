/**
 * Pre-flight before a push: what the receiver can take (its schema version, key ids, its high-water mark per
 * producer) and which transactions it wants sent again. A server without the endpoint is an older version: null,
 * and the client pushes as before.
 */
import { preflightResponseSchema, type PreflightResponse } from '../../shared/api.ts';
import type { Store } from '../core/store.ts';
import { shaped } from '../core/db/typed.ts';

import type { HttpClient } from './client.ts';
import { producerRow } from '../core/row-shapes.ts';

/** The producers this device sends for: itself, and (a middleman) every laptop it pulled from. */
export function producersSentFor(store: Store): string[] {
  const forwarded = store.role === 'middleman'
    ? shaped(store.sql, producerRow, 'SELECT producer FROM producer_cursor ORDER BY producer').all().map((r) => r.producer)
    : [];
  return [store.deviceId, ...forwarded.filter((p) => p !== store.deviceId)].slice(0, 1000);
}

export async function preflight(client: HttpClient, store: Store): Promise<PreflightResponse | null> {
  return client.postIfSupported('/api/v1/preflight', { producers: producersSentFor(store) }, preflightResponseSchema);
}

export interface ResendResult {
  /** Marked to be sent again. */
  resent: number;
  /** Ids this device does not hold (or cannot resend: its own copy failed too); nothing changes for them. */
  unknown: number;
}

/**
 * The receiver asked for these again: this device's own outgoing rows are marked undelivered (a delivery mark, the
 * only change the outbox allows), a middleman's good copies of forwarded ones are marked not forwarded. The next
 * send carries them; the receiver replaces its bad copy with the matching one.
 */
export function applyResendRequests(store: Store, ids: readonly string[]): ResendResult {
  const result: ResendResult = { resent: 0, unknown: 0 };
  if (ids.length === 0) return result;
  const own = store.sql.prepare(`UPDATE outgoing_transaction SET is_consumed_server = 0, consumed_server_at = NULL, consumer_server = NULL
    WHERE id = ? AND producer = ? AND is_consumed_server = 1`);
  const pendingOwn = store.sql.prepare('SELECT 1 FROM outgoing_transaction WHERE id = ? AND is_consumed_server = 0');
  const fwd = store.role === 'middleman'
    ? store.sql.prepare('UPDATE incoming_transaction SET forwarded_at = NULL WHERE id = ? AND forwarded_at IS NOT NULL AND is_consumed = 1 AND is_error = 0')
    : null;
  store.sql.transaction(() => {
    for (const id of new Set(ids)) {
      if (own.run(id, store.deviceId).changes === 1 || (fwd && fwd.run(id).changes === 1)) result.resent++;
      else if (!pendingOwn.get(id)) result.unknown++;
    }
  });
  return result;
}
