/**
 * `push`: pending transactions to the site server in batches capped by count and bytes (gzip). A transaction is
 * marked delivered (isConsumedServer; for a middleman's forwarded ones, forwarded_at) only when the server's
 * answer lists it as accepted or duplicate, which it sends only after committing. A push cut at any point is
 * resumed by the next one: unacknowledged transactions are sent again and the server counts them as duplicates.
 */
import os from 'node:os';
import { DEVICE_KEY_HEADER, LIMITS, PUSH_SESSION_HEADER, pushResponseSchema, type Progress } from '../../shared/api.ts';
import { EdcError, isEdcError } from '../../shared/errors.ts';
import { contactResponseSchema, type ContactRequest, type Holdings } from '../../shared/fleet.ts';
import { offerHeldTubes } from '../core/custody.ts';
import { acceptDeviceList } from '../core/device-list.ts';
import { carriedStates, ownState, recordHolding } from '../core/fleet.ts';
import { incomingTransaction, outgoingTransaction } from '../core/db/schema.ts';
import { rowsOf, shaped } from '../core/db/typed.ts';
import { toWire, wireSignatureValid, type EnvelopeRow } from '../core/envelope.ts';
import { countRow, producerRow } from '../core/row-shapes.ts';
import { uuidv7 } from '../core/ids.ts';
import { LAST_SYNC_KEY } from '../core/status.ts';
import type { Store } from '../core/store.ts';
import type { Actor } from '../core/write-path.ts';
import { HttpClient } from './client.ts';
import { ownLastSeq, renumberPastMark, type Renumbered } from './back-in-time.ts';

export { behindSentence, renumberedSentence } from './back-in-time.ts';
import { applyResendRequests, preflight } from './preflight.ts';
import { readServerLink } from './server-link.ts';


export interface PushResult {
  sent: number;
  accepted: number;
  duplicates: number;
  rejected: { id: string; reason: string }[];
  bytes: number;
  /** Transactions the receiver asked for again and this device sent again. */
  resent: number;
  /**
   * Kept here, not sent: the receiver said at pre-flight it cannot read them (a key it does not have, a newer schema
   * than its own). Per producer, from its first such transaction on (its later ones wait behind it), with the reason.
   */
  held: { producer: string; count: number; reason: string }[];
  /** This device went back in time (a restored backup): its changes the receiver held other ones under, renumbered. */
  renumbered?: Renumbered;
  /** At pre-flight the receiver held more of this device's changes than this device has (a restored backup, a lost `-wal` tail). */
  behind?: { mark: number; ownLast: number };
}

export interface PushOptions {
  onProgress?: (p: Progress) => void;
  /** Transactions per request (default LIMITS.clientBatchCount). */
  batchCount?: number;
  /** Attempts per request for network errors and 5xx (default 5). */
  attempts?: number;
  /** Who pushes: a middleman's offer of the tubes it brings (chain of custody) is written in their name. */
  actor?: Actor;
}

/** Requests in flight at once. */
const PIPELINE = 2;

interface Source {
  /** Next page of up to n pending rows after the last one returned. */
  next(n: number): EnvelopeRow[];
  markDelivered(ids: string[], at: string, server: string): void;
}

/** This device's own transactions not yet delivered to the server. */
function ownOutgoing(store: Store): Source {
  let after = 0;
  const page = rowsOf(store.sql, outgoingTransaction, `SELECT * FROM outgoing_transaction WHERE producer = ? AND producer_seq > ? AND is_consumed_server = 0
    ORDER BY producer_seq LIMIT ?`);
  const mark = store.sql.prepare('UPDATE outgoing_transaction SET is_consumed_server = 1, consumed_server_at = ?, consumer_server = ? WHERE id = ? AND is_consumed_server = 0');
  return {
    next(n) {
      const rows = page.all(store.deviceId, after, n);
      if (rows.length) after = rows[rows.length - 1]!.producer_seq;
      return rows;
    },
    markDelivered(ids, at, server) {
      store.sql.transaction(() => { for (const id of ids) mark.run(at, server, id); });
    },
  };
}

/** A middleman's pulled transactions not yet forwarded, producer by producer, in sequence. */
function forwarded(store: Store): Source {
  const producers = shaped(store.sql, producerRow, 'SELECT DISTINCT producer FROM incoming_transaction').all().map((r) => r.producer);
  let i = 0;
  let after = 0;
  const page = rowsOf(store.sql, incomingTransaction, `SELECT * FROM incoming_transaction WHERE producer = ? AND producer_seq > ? AND forwarded_at IS NULL
    ORDER BY producer_seq LIMIT ?`);
  const mark = store.sql.prepare('UPDATE incoming_transaction SET forwarded_at = ? WHERE id = ? AND forwarded_at IS NULL');
  return {
    next(n) {
      while (i < producers.length) {
        const rows = page.all(producers[i], after, n);
        if (rows.length) {
          after = rows[rows.length - 1]!.producer_seq;
          return rows;
        }
        i++;
        after = 0;
      }
      return [];
    },
    markDelivered(ids, at) {
      store.sql.transaction(() => { for (const id of ids) mark.run(at, id); });
    },
  };
}

export function pendingForServer(store: Store): number {
  const own = shaped(store.sql, countRow, 'SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0').get()!.n;
  if (store.role !== 'middleman') return own;
  return own + shaped(store.sql, countRow, 'SELECT count(*) AS n FROM incoming_transaction WHERE forwarded_at IS NULL').get()!.n;
}

/**
 * The hand-over's announcement: this device's state (and a middleman's laptops') to the server; back come what the
 * site and central hold of this device's transactions (and of those laptops'), recorded here. An older server
 * without the endpoint answers 400/404: the push goes on without it.
 */
export async function contact(store: Store, client: HttpClient, pairedWith?: string): Promise<Holdings | null> {
  const carried = store.role === 'middleman' ? carriedStates(store) : [];
  const req: ContactRequest = { state: ownState(store), ...(carried.length ? { carried, producers: carried.map((c) => c.deviceId) } : {}) };
  try {
    const { data } = await client.post('/api/v1/contact', req, contactResponseSchema);
    recordHoldings(store, data.holdings);
    if (data.deviceList) acceptDeviceList(store, data.deviceList, pairedWith ? { pairedWith } : {});
    return data.holdings;
  } catch (e) {
    if (isEdcError(e) && e.code === 'REQUEST_INVALID') return null;
    throw e;
  }
}

function recordHoldings(store: Store, holdings: Holdings | undefined): void {
  if (!holdings) return;
  store.sql.transaction(() => {
    for (const [p, h] of Object.entries(holdings)) {
      // A field laptop only takes news of itself; a middleman also of the laptops it carries for.
      if (p === store.deviceId || store.role === 'middleman') recordHolding(store, p, h);
    }
  });
}

export async function push(store: Store, opts: PushOptions = {}): Promise<PushResult> {
  if (store.role !== 'field' && store.role !== 'middleman') {
    throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} server sends files to central (export, send); only field and middleman devices push`);
  }
  const link = readServerLink(store.dir);
  // The device key travels with the token: a device paired before keys registers it on this first contact. Every
  // request of this push names the same session, so the site shows them as one hand-over.
  const client = new HttpClient({ baseURL: link.url, token: link.token, attempts: opts.attempts ?? 5,
    headers: { [DEVICE_KEY_HEADER]: store.signingKey.publicKey, [PUSH_SESSION_HEADER]: uuidv7() } });
  const batchCount = Math.min(opts.batchCount ?? LIMITS.clientBatchCount, LIMITS.maxBatchCount);
  await contact(store, client, link.serverDeviceId);
  // The driver reached the site: it states (signed) the tubes it brings, before the push carries the statement.
  offerHeldTubes(store, opts.actor ?? { user: os.userInfo().username });
  const pre = await preflight(client, store);
  const ownLastAtStart = ownLastSeq(store);
  const result: PushResult = { sent: 0, accepted: 0, duplicates: 0, rejected: [], bytes: 0, resent: 0, held: [] };
  // What the receiver cannot read is not sent (it would be accepted, acknowledged and then never applied): kept here,
  // pending, with the reason, until the receiver has the key or the schema. Older receivers (no pre-flight): as before.
  const heldIds = new Map<string, string>(); // id → producer
  const heldWhy = new Map<string, string>(); // producer → reason
  const holdReason = (r: EnvelopeRow): string | null => {
    // A waiting change of this device's own that no longer verifies (its store was damaged or edited) is never sent
    // and marked delivered: kept here, said plainly.
    if (r.producer === store.deviceId && r.sig && !wireSignatureValid(toWire(r), store.signingKey.publicKey)) {
      return `${r.producer}'s change #${r.producer_seq} is damaged in this laptop's store (it no longer matches its signature); it is kept here and not sent, and the ones after it wait`;
    }
    if (!pre) return null;
    if (r.schema_version > pre.schemaVersion) return `${r.producer} writes schema ${r.schema_version}; ${pre.deviceId} runs schema ${pre.schemaVersion}: upgrade ${pre.deviceId}`;
    // A receiver with no key set at all keeps what it gets until its keys are installed (it says so itself); one
    // whose key set lacks this key would sit on it with no word, so that is kept here instead.
    if (pre.keyIds.length > 0 && !pre.keyIds.includes(r.key_id)) {
      return `${pre.deviceId} does not have key ${r.key_id}: export the key set (edc-sync keys export) and import it on ${pre.deviceId}`;
    }
    return null;
  };
  const sendable = (rows: EnvelopeRow[]): EnvelopeRow[] => rows.filter((r) => {
    if (heldWhy.has(r.producer)) {
      heldIds.set(r.id, r.producer);
      return false;
    }
    const why = holdReason(r);
    if (!why) return true;
    heldWhy.set(r.producer, why);
    heldIds.set(r.id, r.producer);
    return false;
  });
  // Asked for again (undecryptable or invalid at the receiver): marked undelivered, so this push carries them.
  let askedAgain = applyResendRequests(store, pre?.resend ?? []).resent;
  const total = pendingForServer(store);
  opts.onProgress?.({ phase: 'push', done: 0, total, bytes: 0 });
  // Two batches in flight: the next one is read and compressed while the server commits the previous one.
  // Batches may be committed in any order; acknowledgements are per id, and the consumer orders by producerSeq.
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const send = async (source: Source, batch: EnvelopeRow[]) => {
    const { data, bytes } = await client.post('/api/v1/push', { transactions: batch.map(toWire) }, pushResponseSchema);
    const sentIds = new Set(batch.map((r) => r.id));
    const delivered = [...data.accepted, ...data.duplicates].filter((id) => sentIds.has(id));
    source.markDelivered(delivered, new Date().toISOString(), link.serverDeviceId);
    recordHoldings(store, data.holdings);
    askedAgain += applyResendRequests(store, data.resend ?? []).resent;
    result.sent += batch.length;
    result.accepted += data.accepted.length;
    result.duplicates += data.duplicates.length;
    result.rejected.push(...data.rejected);
    result.bytes += bytes;
    opts.onProgress?.({ phase: 'push', done: result.sent, total, bytes: result.bytes });
  };
  // A second round sends what the receiver asked for again during the first (once: a copy that fails again there
  // is not asked for again automatically).
  const sendAll = async (sources: Source[]) => {
    for (const source of sources) {
      for (;;) {
        if (failure) break;
        const page = source.next(batchCount);
        if (page.length === 0) break;
        const rows = sendable(page);
        if (rows.length === 0) continue;
        // Byte cap: split the page if its envelopes are large.
        for (let start = 0; start < rows.length && !failure;) {
          let end = start;
          let size = 0;
          while (end < rows.length && (end === start || size + rows[end]!.tx.length * 1.34 + 400 <= LIMITS.clientBatchBytes)) {
            size += rows[end]!.tx.length * 1.34 + 400;
            end++;
          }
          const p: Promise<void> = send(source, rows.slice(start, end)).catch((e: unknown) => { failure ??= e; }).finally(() => inflight.delete(p));
          inflight.add(p);
          start = end;
          if (inflight.size >= PIPELINE) await Promise.race(inflight);
        }
      }
    }
    await Promise.all(inflight);
  };
  for (let round = 0; round < 2 && !failure; round++) {
    result.resent += askedAgain;
    askedAgain = 0;
    await sendAll(store.role === 'middleman' ? [ownOutgoing(store), forwarded(store)] : [ownOutgoing(store)]);
    if (askedAgain === 0) break;
  }
  // Back in time: own changes at or below the receiver's mark that it refused are held there under other ids.
  // Renumbered past the mark (they reached no one) and sent once more.
  const mark = pre?.highWater[store.deviceId] ?? 0;
  if (mark > ownLastAtStart) result.behind = { mark, ownLast: ownLastAtStart };
  if (!failure && mark > 0 && result.rejected.length > 0) {
    const moved = renumberPastMark(store, result.rejected.map((x) => x.id), mark);
    if (moved) {
      result.renumbered = moved;
      // The renumbered ones leave the refused list (sent again under their new numbers); the rest keep their reasons.
      const earlier = result.rejected.filter((x) => !moved.ids.includes(x.id));
      result.rejected = [];
      await sendAll([ownOutgoing(store)]);
      result.rejected = [...earlier, ...result.rejected];
    }
  }
  await Promise.all(inflight);
  if (failure) throw failure;
  for (const [producer, reason] of heldWhy) result.held.push({ producer, count: [...heldIds.values()].filter((p) => p === producer).length, reason });
  store.setState(LAST_SYNC_KEY, new Date().toISOString());
  return result;
}
