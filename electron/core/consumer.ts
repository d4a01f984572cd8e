/**
 * The consumer: ingest envelopes idempotently, then apply them per producer in producerSeq order.
 *
 * - ingest: INSERT … ON CONFLICT(id) DO NOTHING; a duplicate id is counted, a different id claiming a taken
 *   (producer, producerSeq) is rejected with a reason. Nothing is decrypted at ingest.
 * - apply: each producer has a cursor (producer_cursor.applied_seq). The next transaction must be cursor + 1:
 *   a missing number holds the producer's later transactions (a gap, reported by status). A record whose parent
 *   (or, for an update, whose own insert) has not arrived is deferred: the producer waits at it, and it is retried
 *   on the next pass, after other producers' transactions have been applied. Errors (undecryptable, invalid,
 *   constraint) and conflicts (base revision differs from the local one) are kept, flagged, and the cursor moves on.
 * - atomicity: applying a transaction, its history row and marking it consumed run in one SAVEPOINT inside the
 *   chunk's IMMEDIATE transaction, so they happen together or not at all.
 */
import { z } from 'zod';
import { payloadSchema, wireEnvelopeSchema, type Payload, type ReceivedVia, type WireEnvelope } from '../../shared/envelope.ts';
import { EdcError, isEdcError } from '../../shared/errors.ts';
import { CONSUMING_ROLES } from '../../shared/settings.ts';
import { gapSchema, type Gap } from '../../shared/status.ts';
import type { KeySet } from './crypto/keyset.ts';
import { recordProblem } from './domain/record-check.ts';
import { MODELS, SCHEMA_VERSION, type Model } from './domain/registry.ts';
import { upcast } from './domain/upcast.ts';
import { markSetAside } from './set-aside.ts';
import { envelopeAad, type RawRow } from './envelope.ts';
import { inJsonList } from './db/dialect.ts';
import { dbFault, type Query } from './db/port.ts';
import { incomingTransaction } from './db/schema.ts';
import { typedStatements, type SqlRow } from './db/typed.ts';
import { drain } from './steps.ts';
import { IngestTrust, type TrustOptions } from './trust.ts';
import { recordSessionRequest, type SessionSpec } from './sessions.ts';
import { uuidv7 } from './ids.ts';
import type { Store } from './store.ts';
import { insertSql, mapDbError, updateSql } from './write-path.ts';
import { countRow, idRow, producerRow, recordRow } from './row-shapes.ts';

export interface IngestResult {
  accepted: string[];
  duplicates: string[];
  rejected: { id: string; reason: string }[];
}

export interface ConsumeResult {
  applied: number;
  ignored: number;
  errors: number;
  conflicts: number;
  /** Transactions waiting for a parent that has not arrived (still pending). */
  deferred: number;
  /** Not applied because a transaction they depend on failed here (applied after it once it is retried). */
  blocked: number;
  gaps: Gap[];
}

export interface ConsumeProgress {
  done: number;
  total: number;
}

type Outcome =
  | { kind: 'applied' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'deferred'; reason: string }
  | { kind: 'error'; reason: string }
  | { kind: 'blocked'; by: string; reason: string }
  | { kind: 'conflict'; reason: string; localRevision: number | null; local: RawRow | null; baseRevision: number; incoming: RawRow };

type IncomingRow = SqlRow<typeof incomingTransaction>;

// The shapes of the consumer's projections, checked where they are read (db/typed.ts).
const revisionRow = z.object({ revision: z.number() });
const idRevision = z.object({ id: z.string(), revision: z.number() });
const cursorRow = z.object({ producer: z.string(), applied_seq: z.number() });
const appliedRow = z.object({ applied_seq: z.number() });
const seqRow = z.object({ producer_seq: z.number() });
const keyRow = z.object({ key_id: z.string() });
const setAsideRow = z.object({ id: z.string(), reason: z.string(), user_created: z.string() });
const failedInsert = z.object({ id: z.string(), blocked_by: z.string().nullable(), blocked_reason: z.string().nullable(), error: z.string().nullable() });
const asideInsert = z.object({ transaction_id: z.string(), reason: z.string() });


const CHUNK = 500;
const HISTORY_SQL = `INSERT INTO audit_history (id, tx_name, record_id, action, revision, changes, "user", hostname, device_id, at, transaction_id, reason)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`;
/** Envelopes stored by one statement at ingest (15 values each: well within both databases' limits on parameters). */
const INGEST_ROWS = 100;
/**
 * Stores `rows` envelopes. Not stored, and not an error: the same id again (a duplicate), or another id under a
 * producer's number (refused); neither raises, so one bad envelope never aborts the batch's transaction (PostgreSQL
 * would refuse the rest after an error). The ids stored come back.
 */
const ingestSql = (rows: number) => `INSERT INTO incoming_transaction (id, producer, producer_seq, tx_name, tx_pk, action, timestamp, schema_version, key_id, tx, received_at, received_via, batch_id, sig, session_id)
  VALUES ${Array.from({ length: rows }, () => '(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)').join(', ')} ON CONFLICT DO NOTHING RETURNING id`;
/** Times a receiver asks for one transaction again automatically (a copy damaged at its source fails every time). */
export const MAX_RESEND_ASKS = 3;
/**
 * Marks an error: (reason, askAgain 0|1, now, id). askAgain: the sender is asked for it again, unless already
 * asked and not yet answered, or asked MAX_RESEND_ASKS times. Every right-hand side sees the row as it was.
 */
const MARK_ERROR = `UPDATE incoming_transaction SET is_error = 1, error = ?, blocked_by = NULL, blocked_reason = NULL, retry_due = 0,
  resend_requested_at = CASE WHEN ? = 1 AND (resend_requested_at IS NULL OR (resend_answered_at IS NOT NULL AND resend_count < ${MAX_RESEND_ASKS})) THEN ? ELSE resend_requested_at END,
  resend_answered_at = CASE WHEN ? = 1 AND resend_answered_at IS NOT NULL AND resend_count < ${MAX_RESEND_ASKS} THEN NULL ELSE resend_answered_at END,
  resend_count = CASE WHEN ? = 1 AND (resend_requested_at IS NULL OR (resend_answered_at IS NOT NULL AND resend_count < ${MAX_RESEND_ASKS})) THEN resend_count + 1 ELSE resend_count END
  WHERE id = ?`;
const markErrorArgs = (reason: string, askAgain: 0 | 1, now: string | null, id: string) => [reason, askAgain, now, askAgain, askAgain, id];
/** Retried transactions between yields (each is its own SQLite transaction). */
const RETRY_STEP = 100;
/** device_state key: the schema version of the app that last consumed on this store (see steps()). */
const CONSUMER_SCHEMA_STATE = 'consumer_schema_version';

interface ChunkStep {
  /** The producer's cursor after the chunk. */
  cursor: number;
  /** Stopped at a gap or a deferred transaction. */
  held: boolean;
  deferredId: string | null;
  appliedIds: string[];
  counts: ConsumeResult;
}

/**
 * What a fast chunk knows before it applies (ChunkCache): per table, the revision of each record the chunk names (its
 * own records and their parents; null: not here), read in one statement per table, then kept up to date by the
 * chunk's own writes; and each transaction's payload, decrypted up front. On PostgreSQL this turns a round trip per
 * record into one per table and chunk. Only the fast chunk uses it (its writes are the only writes meanwhile: one writer).
 */
interface ChunkCache {
  revisions: Map<string, Map<string, number | null>>;
  payloads: Map<string, Payload | { error: string }>;
  /** Records the chunk deleted (model\u0000id): their history rows are written at the chunk's end. */
  deleted: Set<string>;
  /** The chunk's history rows, written together after its records (nothing in the chunk reads them but wasDeleted). */
  history: unknown[][];
}

export class Consumer {
  private readonly q: ReturnType<typeof typedStatements>;
  /** Statements whose rows nobody reads (writes). */
  private readonly stmt: (key: string, sql: () => string) => Query;
  private chunkCache: ChunkCache | null = null;

  constructor(private readonly store: Store) {
    this.q = typedStatements(store.sql);
    this.stmt = this.q.write;
  }

  /** Wire envelopes (already parsed from JSON) → incoming_transaction. Each one is validated first. */
  ingest(envelopes: Iterable<unknown>, via: ReceivedVia, batchId: string | null = null, trustOpts: TrustOptions = {}, session?: SessionSpec): IngestResult {
    const valid: WireEnvelope[] = [];
    const rejected: IngestResult['rejected'] = [];
    for (const raw of envelopes) {
      const parsed = wireEnvelopeSchema.safeParse(raw);
      if (parsed.success) {
        valid.push(parsed.data);
      } else {
        const issue = parsed.error.issues[0];
        const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : '(no id)';
        rejected.push({ id, reason: `${issue?.path.join('.') || 'envelope'}: ${issue?.message ?? 'invalid'}` });
      }
    }
    const result = this.ingestValid(valid, via, batchId, trustOpts, session);
    result.rejected.unshift(...rejected);
    return result;
  }

  /**
   * Envelopes already validated against wireEnvelopeSchema (e.g. by the server's request schema). One transaction.
   * Each is checked against its producer's standing first (core/trust.ts): a refused one stores nothing.
   */
  ingestValid(envelopes: readonly WireEnvelope[], via: ReceivedVia, batchId: string | null = null, trustOpts: TrustOptions = {}, session?: SessionSpec): IngestResult {
    this.assertConsumingRole('receive transactions');
    const result: IngestResult = { accepted: [], duplicates: [], rejected: [] };
    const trust = new IngestTrust(this.store, trustOpts);
    envelopes = envelopes.filter((e) => {
      const why = e.producer === this.store.deviceId
        ? `producer ${e.producer} is this device; its own transactions cannot come back in`
        : trust.refusal(e);
      if (why) result.rejected.push({ id: e.id, reason: why });
      return why === null;
    });
    const held = this.q.write('ingest-held', () => 'SELECT 1 AS x FROM incoming_transaction WHERE id = ?');
    // The hand-over this arrives in (core/sessions.ts); without one given, the batch is its own session.
    const spec: SessionSpec = session ?? { id: batchId ?? uuidv7(), via, device: envelopes[0]?.producer ?? 'unknown' };
    const storedBy = new Set<string>();
    const now = new Date().toISOString();
    const register = this.stmt('register-producer', () => `INSERT INTO producer_cursor (producer, applied_seq, updated_at) VALUES (?, 0, ?)
      ON CONFLICT(producer) DO NOTHING`);
    const resendWanted = new Map<string, Set<string>>();
    this.store.sql.transaction(() => {
      // Every producer with transactions here has a cursor row: the small table consume starts from.
      for (const p of new Set(envelopes.map((e) => e.producer))) register.run(p, now);
      // Up to INGEST_ROWS envelopes per statement; the ids it stored come back (RETURNING), the others were not stored.
      const stored = new Set<string>();
      for (let i = 0; i < envelopes.length; i += INGEST_ROWS) {
        const group = envelopes.slice(i, i + INGEST_ROWS);
        const values = group.flatMap((e) => [e.id, e.producer, e.producerSeq, e.txName, e.txPk, e.action, e.timestamp, e.schemaVersion, e.keyId, Buffer.from(e.tx, 'base64'), now, via, batchId, e.sig ?? null, spec.id]);
        for (const r of this.q.shaped(`ingest:${group.length}`, idRow, () => ingestSql(group.length)).all(values)) stored.add(r.id);
      }
      for (const e of envelopes) {
        const id = e.id;
        if (stored.delete(e.id)) {
          result.accepted.push(e.id);
          storedBy.add(e.producer);
        } else if (!held.get(e.id)) {
          result.rejected.push({ id, reason: `${e.producer} #${e.producerSeq} is already taken by another transaction id` });
        } else {
          result.duplicates.push(e.id);
          // The copy this receiver asked for: it replaces the bad one (same envelope) and is applied first next.
          let wanted = resendWanted.get(e.producer);
          if (!wanted) resendWanted.set(e.producer, wanted = new Set(this.resendWanted(e.producer, 100_000)));
          if (wanted.has(e.id)) {
            this.stmt('resend-replace', () => `UPDATE incoming_transaction SET tx = ?, key_id = ?, sig = ?, resend_answered_at = ?, retry_due = 1
              WHERE id = ? AND producer = ? AND producer_seq = ? AND tx_name = ? AND tx_pk = ? AND action = ? AND schema_version = ? AND is_consumed = 0`)
              .run(Buffer.from(e.tx, 'base64'), e.keyId, e.sig ?? null, now, e.id, e.producer, e.producerSeq, e.txName, e.txPk, e.action, e.schemaVersion);
            wanted.delete(e.id);
          }
        }
      }
      if (result.accepted.length > 0) recordSessionRequest(this.store, spec, storedBy, result.accepted.length, now);
    });
    return result;
  }

  /** Apply every applicable pending transaction. Safe to call at any time; does nothing when nothing is pending. */
  consume(onProgress?: (p: ConsumeProgress) => void): ConsumeResult {
    return drain(this.steps(onProgress));
  }

  /**
   * consume() one chunk at a time: each next() applies up to one chunk (one SQLite transaction) and returns.
   * A server drains it between requests (setImmediate), so consuming a large backlog never blocks the event loop.
   */
  *steps(onProgress?: (p: ConsumeProgress) => void): Generator<ConsumeProgress, ConsumeResult, void> {
    this.assertConsumingRole('consume transactions');
    const keys = this.store.requireKeys();
    const pending = this.pendingByProducer();
    this.assertSomeDecryptable(keys, pending);
    const total = pending.reduce((sum, p) => sum + p.pending, 0);
    const result: ConsumeResult = { applied: 0, ignored: 0, errors: 0, conflicts: 0, deferred: 0, blocked: 0, gaps: [] };
    const deferredIds = new Set<string>();
    let done = 0;
    // Copies that replaced bad ones (a resend answered): apply them, and what they blocked, before anything else.
    const due = this.q.rows('retry-due', incomingTransaction, () => 'SELECT * FROM incoming_transaction WHERE retry_due = 1 ORDER BY producer, producer_seq').all();
    for (const row of due) {
      this.store.guarded(() => {
        // Inside the write transaction: another process on this store may have taken it since the list was read.
        if (this.stmt('clear-due', () => 'UPDATE incoming_transaction SET retry_due = 0 WHERE id = ? AND retry_due = 1').run(row.id).changes === 0) return;
        const fresh = this.q.rows('row-by-id', incomingTransaction, () => 'SELECT * FROM incoming_transaction WHERE id = ?').get(row.id);
        if (fresh) this.retryOne(fresh, keys, result);
      });
      yield { done, total };
    }
    // The first drain after an upgrade: what an older version of this app kept waiting as written by a newer schema
    // (SCHEMA_TOO_NEW) and is readable now applies without anyone asking (once per upgrade: a scan of the failed).
    if (Number(this.store.getState(CONSUMER_SCHEMA_STATE) ?? 0) < SCHEMA_VERSION) {
      const readable = this.q.shaped('schema-readable', idRow, () => `SELECT id FROM incoming_transaction WHERE is_error = 1 AND schema_version <= ?
        AND error LIKE 'SCHEMA_TOO_NEW%' ORDER BY producer, producer_seq`).all(SCHEMA_VERSION);
      for (const { id } of readable) {
        this.retryStillFailed(id, keys, result);
        yield { done, total };
      }
      this.store.guarded(() => this.store.setState(CONSUMER_SCHEMA_STATE, String(SCHEMA_VERSION)));
    }
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const producer of this.producersWithPending()) {
        for (;;) {
          // One writer by construction: the cursor and the chunk after it are read inside the chunk's IMMEDIATE
          // transaction, so another drain of this store (a second `consume`, the server's background consumer beside
          // an import) that moved the cursor meanwhile is seen, and no chunk is ever applied or flagged twice.
          const chunk = (mode: 'fast' | 'careful') => this.store.guarded(() => {
            const from = this.cursor(producer);
            const rows = this.q.rows('next', incomingTransaction, () => `SELECT * FROM incoming_transaction WHERE producer = ? AND producer_seq > ?
              ORDER BY producer_seq LIMIT ${CHUNK}`).all(producer, from);
            return rows.length === 0 ? null : { from, step: this.applyChunk(producer, from, rows, keys, mode) };
          });
          let r: { from: number; step: ChunkStep } | null = null;
          for (let waited = 0; ; waited++) {
            try {
              r = chunk('fast');
              break;
            } catch (e) {
              // Another process holds the write lock past busy_timeout (a second drain working through a backlog):
              // wait for it, up to BUSY_WAITS times; what it applied is then seen here and not applied again.
              if (isBusy(e) && waited < BUSY_WAITS) continue;
              if (isBusy(e)) throw new EdcError('BUSY', 'another process has been writing to this store for minutes; try again when it has finished');
              // A write hit a constraint somewhere in the chunk: it was rolled back whole. Redo it one transaction
              // at a time, each in its own savepoint, so the failing one is isolated and the rest apply.
              r = chunk('careful');
              break;
            }
          }
          if (!r) break;
          const { from: cursor, step } = r;
          for (const id of step.appliedIds) deferredIds.delete(id);
          if (step.deferredId) deferredIds.add(step.deferredId);
          result.applied += step.counts.applied;
          result.ignored += step.counts.ignored;
          result.errors += step.counts.errors;
          result.conflicts += step.counts.conflicts;
          result.blocked += step.counts.blocked;
          if (step.cursor > cursor) progressed = true;
          done += step.cursor - cursor;
          onProgress?.({ done, total });
          yield { done, total };
          if (step.held) break;
        }
      }
    }
    result.deferred = deferredIds.size;
    result.gaps = this.gaps();
    return result;
  }

  /**
   * One chunk of one producer's transactions, in the caller's transaction. 'fast': no savepoints, consumed
   * marks in one statement; any exception aborts the whole chunk (the caller retries it 'careful').
   * 'careful': each transaction in its own savepoint, failures recorded as errors.
   */
  private applyChunk(producer: string, from: number, rows: IncomingRow[], keys: KeySet, mode: 'fast' | 'careful'): ChunkStep {
    const step: ChunkStep = { cursor: from, held: false, deferredId: null, appliedIds: [], counts: { applied: 0, ignored: 0, errors: 0, conflicts: 0, deferred: 0, blocked: 0, gaps: [] } };
    this.chunkCache = mode === 'fast' ? this.prefetch(rows, keys) : null;
    try {
      this.applyRows(rows, keys, mode, step);
      for (const values of this.chunkCache?.history ?? []) this.stmt('history', () => HISTORY_SQL).later(values);
    } finally {
      this.chunkCache = null;
    }
    if (mode === 'fast' && step.cursor > from) {
      this.stmt('mark-range', () => `UPDATE incoming_transaction SET is_consumed = 1, consumed_at = ?, deferred_reason = NULL
        WHERE producer = ? AND producer_seq > ? AND producer_seq <= ? AND is_consumed = 0 AND is_error = 0 AND is_conflict = 0 AND blocked_by IS NULL`)
        .run(new Date().toISOString(), producer, from, step.cursor);
    }
    this.stmt('cursor', () => `INSERT INTO producer_cursor (producer, applied_seq, updated_at) VALUES (?, ?, ?)
      ON CONFLICT(producer) DO UPDATE SET applied_seq = excluded.applied_seq, updated_at = excluded.updated_at`).run(producer, step.cursor, new Date().toISOString());
    return step;
  }

  /** The chunk's transactions in order, until a gap or a deferred one (see applyChunk). */
  private applyRows(rows: IncomingRow[], keys: KeySet, mode: 'fast' | 'careful', step: ChunkStep): void {
    for (const row of rows) {
      if (row.producer_seq !== step.cursor + 1) {
        step.held = true; // gap: cursor+1 … row.producer_seq-1 not received yet
        break;
      }
      const outcome = mode === 'fast' ? this.apply(row, keys, 'fast') : this.applyAtomically(row, keys);
      if (outcome.kind === 'deferred') {
        this.stmt('defer', () => `UPDATE incoming_transaction SET deferred_count = deferred_count + 1, deferred_reason = ?,
          deferred_since = coalesce(deferred_since, ?) WHERE id = ?`).run(outcome.reason, new Date().toISOString(), row.id);
        step.deferredId = row.id;
        step.held = true;
        break;
      }
      if (mode === 'fast') this.record(row, outcome, new Date().toISOString());
      if (outcome.kind === 'applied') step.appliedIds.push(row.id);
      count(step.counts, outcome);
      step.cursor = row.producer_seq;
    }
  }

  /**
   * The fast chunk's ChunkCache: payloads decrypted up front (not those an older app wrote: their upcast reads the
   * record as the chunk left it), then, per table, the revisions of the records named, in one statement each.
   * Each payload is decoded once either way: apply() takes it from here or decodes it itself.
   */
  private prefetch(rows: IncomingRow[], keys: KeySet): ChunkCache {
    const payloads = new Map<string, Payload | { error: string }>();
    const wanted = new Map<string, Set<string>>();
    const want = (table: string, id: unknown) => {
      if (typeof id !== 'string') return;
      let ids = wanted.get(table);
      if (!ids) wanted.set(table, ids = new Set());
      ids.add(id);
    };
    // A chunk that starts where the last one waited (deferred) will likely wait there again: nothing is decrypted ahead.
    const ahead = rows[0]?.deferred_count === 0;
    for (const row of rows) {
      const model = MODELS.get(row.tx_name);
      if (!model || row.schema_version !== SCHEMA_VERSION) continue;
      want(model.tableName, row.tx_pk);
      if (!ahead) continue;
      const payload = this.decode(row, model, keys);
      payloads.set(row.id, payload);
      if ('error' in payload) continue;
      for (const p of model.parents) want(p.tableName, payload.record[p.columnSql]);
    }
    const revisions = new Map<string, Map<string, number | null>>();
    for (const [table, named] of wanted) {
      const known = new Map<string, number | null>([...named].map((id) => [id, null]));
      const found = this.q.shaped(`revisions:${table}`, idRevision, () => `SELECT id, revision FROM "${table}" WHERE ${inJsonList(this.store.sql.dialect, 'id')}`)
        .all(JSON.stringify([...named]));
      for (const r of found) known.set(r.id, Number(r.revision));
      revisions.set(table, known);
    }
    return { revisions, payloads, deleted: new Set(), history: [] };
  }

  /** The revision of record `id` of `table` here, null when it is not here (from the chunk's cache when it knows). */
  private revisionOf(table: string, id: string): number | null {
    const cached = this.chunkCache?.revisions.get(table);
    if (cached?.has(id)) return cached.get(id)!;
    const row = this.q.shaped(`rev:${table}`, revisionRow, () => `SELECT revision FROM "${table}" WHERE id = ?`).get(id);
    return row ? Number(row.revision) : null;
  }

  /** A write of the fast chunk: its cache follows it. */
  private wrote(table: string, id: string, revision: number | null): void {
    const cached = this.chunkCache?.revisions.get(table);
    if (cached) cached.set(id, revision);
    else this.chunkCache?.revisions.set(table, new Map([[id, revision]]));
  }

  /** Producers that have received transactions beyond their cursor (an index seek each, no counting). */
  private producersWithPending(): string[] {
    return this.q.shaped('producers-pending', producerRow, () => `SELECT c.producer FROM producer_cursor c WHERE EXISTS
      (SELECT 1 FROM incoming_transaction i WHERE i.producer = c.producer AND i.producer_seq > c.applied_seq) ORDER BY c.producer`)
      .all().map((r) => r.producer);
  }

  /**
   * Pending transactions per producer: those beyond its cursor, counted on the (producer, producer_seq) index, so
   * the cost follows what is pending, not everything ever received.
   */
  private pendingByProducer(): { producer: string; cursor: number; pending: number }[] {
    const cursors = this.q.shaped('cursors', cursorRow, () => 'SELECT producer, applied_seq FROM producer_cursor ORDER BY producer').all();
    const count = this.q.shaped('pending-of', countRow, () => 'SELECT count(*) AS n FROM incoming_transaction WHERE producer = ? AND producer_seq > ?');
    return cursors.map((c) => ({ producer: c.producer, cursor: c.applied_seq, pending: count.get(c.producer, c.applied_seq)?.n ?? 0 }));
  }

  /** Try the transactions marked isError again (after the cause was fixed, e.g. the right key imported). */
  retryErrors(onProgress?: (p: ConsumeProgress) => void): ConsumeResult {
    return drain(this.retrySteps(onProgress));
  }

  /** retryErrors() a bounded piece at a time (see steps()). */
  *retrySteps(onProgress?: (p: ConsumeProgress) => void): Generator<ConsumeProgress, ConsumeResult, void> {
    this.assertConsumingRole('consume transactions');
    const keys = this.store.requireKeys();
    // Ids only: each is read again, whole, inside its own write transaction (retryStillFailed).
    const rows = this.q.shaped('error-ids', idRow, () => 'SELECT id FROM incoming_transaction WHERE is_error = 1 ORDER BY producer, producer_seq').all();
    const result: ConsumeResult = { applied: 0, ignored: 0, errors: 0, conflicts: 0, deferred: 0, blocked: 0, gaps: [] };
    let done = 0;
    for (const listed of rows) {
      this.retryStillFailed(listed.id, keys, result);
      onProgress?.({ done: ++done, total: rows.length });
      if (done % RETRY_STEP === 0) yield { done, total: rows.length };
    }
    // Later transactions of a producer may have waited on these.
    const more = yield* this.steps();
    result.applied += more.applied;
    result.ignored += more.ignored;
    result.errors += more.errors;
    result.conflicts += more.conflicts;
    result.deferred += more.deferred;
    result.blocked += more.blocked;
    result.gaps = more.gaps;
    return result;
  }

  /**
   * A failed transaction listed before, again in its own write transaction if it is still failed: another drain of
   * this store (the server's background consumer, which also retries when it sees a new key set) may have applied it
   * since the list was read, and applied again from the stale copy it would be a false conflict ("already exists here").
   */
  private retryStillFailed(id: string, keys: KeySet, result: ConsumeResult): void {
    this.store.guarded(() => {
      const row = this.q.rows('error-by-id', incomingTransaction, () => 'SELECT * FROM incoming_transaction WHERE id = ? AND is_error = 1').get(id);
      if (row) this.retryOne(row, keys, result);
    });
  }

  /**
   * One failed (or replaced) transaction again, in the caller's guarded transaction; if it applies, the
   * transactions it blocked follow, in producerSeq order (passes until none moves: a grandchild from another
   * producer may need a child first). A dependant that still waits for something absent becomes an error.
   */
  private retryOne(row: IncomingRow, keys: KeySet, result: ConsumeResult): void {
    const outcome = this.applyAtomically(row, keys);
    if (outcome.kind === 'deferred') {
      // Behind the producer's cursor, so it stays an error (with the new reason) until retried again.
      this.stmt('mark-error', () => MARK_ERROR).run(markErrorArgs(outcome.reason, 0, null, row.id));
      result.deferred++;
      return;
    }
    count(result, outcome);
    if (outcome.kind !== 'applied') return;
    const dependants = this.q.rows('blocked-by', incomingTransaction, () => 'SELECT * FROM incoming_transaction WHERE blocked_by = ? ORDER BY producer, producer_seq');
    let waiting = dependants.all(row.id);
    for (let moved = true; moved && waiting.length > 0;) {
      moved = false;
      const still: IncomingRow[] = [];
      for (const dep of waiting) {
        const o = this.applyAtomically(dep, keys, false);
        if (o.kind === 'deferred' || o.kind === 'blocked') {
          still.push(dep);
          continue;
        }
        moved = true;
        count(result, o);
      }
      waiting = still;
    }
    // Blocked by another failure: recorded as blocked by that one. Waiting for something absent: an error, retried
    // with the others (it is behind the cursor, so nothing else would look at it again).
    for (const dep of waiting) {
      const o = this.applyAtomically(dep, keys);
      if (o.kind === 'deferred') {
        this.stmt('mark-error', () => MARK_ERROR).run(markErrorArgs(`${o.reason} (still missing after ${row.id} applied)`, 0, null, dep.id));
        result.errors++;
      } else {
        count(result, o);
      }
    }
  }

  /** Ids of `producer`'s transactions this receiver wants sent again (undecryptable or invalid here, or asked by a person). */
  resendWanted(producer: string, limit = 1000): string[] {
    return this.q.shaped('resend-wanted', idRow, () => `SELECT id FROM incoming_transaction WHERE producer = ? AND resend_requested_at IS NOT NULL
      AND resend_answered_at IS NULL ORDER BY producer_seq LIMIT ?`).all(producer, limit).map((r) => r.id);
  }

  /** "Ask the device to send it again": a person asks for a received transaction once more (its next push answers). */
  requestResend(id: string): void {
    const r = this.stmt('request-resend', () => 'UPDATE incoming_transaction SET resend_requested_at = ?, resend_answered_at = NULL WHERE id = ? AND is_consumed = 0')
      .run(new Date().toISOString(), id);
    if (r.changes === 0) throw new EdcError('TRANSACTION_UNKNOWN', `${id} is not a received transaction waiting here`);
  }

  /**
   * The highest producerSeq up to which every transaction of `producer` has been received. Everything at or below
   * the cursor has; pass a mark known from before (a server answering push after push) and only the rows after it
   * are read.
   */
  highWater(producer: string, from: number = this.cursor(producer)): number {
    let hw = from;
    for (;;) {
      const seqs = this.q.shaped('hw-walk', seqRow, () => 'SELECT producer_seq FROM incoming_transaction WHERE producer = ? AND producer_seq > ? ORDER BY producer_seq LIMIT 1000')
        .all(producer, hw);
      let i = 0;
      while (i < seqs.length && seqs[i]!.producer_seq === hw + 1) {
        hw++;
        i++;
      }
      if (i < 1000) return hw;
    }
  }

  /** Per producer, the ranges of producerSeq not received yet but needed before later ones can apply. */
  gaps(): Gap[] {
    // Only producers with something beyond their cursor can have a gap; each is read from its cursor up the
    // (producer, producer_seq) index: what is pending, never the whole history (nor a plan that scans it).
    const cursor = this.q.shaped('get-cursor', appliedRow, () => 'SELECT applied_seq FROM producer_cursor WHERE producer = ?');
    const gapsOf = this.q.shaped('gaps-of', gapSchema, () => `SELECT producer, prev + 1 AS "from", seq - 1 AS "to" FROM (
        SELECT producer, producer_seq AS seq, LAG(producer_seq, 1, ?) OVER (ORDER BY producer_seq) AS prev
        FROM incoming_transaction WHERE producer = ? AND producer_seq > ?
      ) AS g WHERE seq - prev > 1 ORDER BY "from"`);
    return this.producersWithPending().flatMap((producer) => {
      const from = cursor.get(producer)?.applied_seq ?? 0;
      return gapsOf.all(from, producer, from);
    });
  }

  /**
   * Wrong key set (another study's, or an old one): no pending transaction names a key this device has. Refuse
   * before anything is marked. A mix (a rotation not imported yet) becomes per-transaction KEY_UNKNOWN errors,
   * cleared by retryErrors after the import.
   */
  private assertSomeDecryptable(keys: KeySet, pending: { producer: string; cursor: number; pending: number }[]): void {
    const q = this.q.shaped('pending-keys', keyRow, () => 'SELECT DISTINCT key_id FROM incoming_transaction WHERE producer = ? AND producer_seq > ?');
    const keyIds = [...new Set(pending.filter((p) => p.pending > 0)
      .flatMap((p) => q.all(p.producer, p.cursor).map((r) => r.key_id)))];
    if (keyIds.length > 0 && !keyIds.some((k) => keys.hasKey(k))) {
      throw new EdcError('KEY_UNKNOWN', `none of the pending transactions can be decrypted with this device's key set (they use ${keyIds.slice(0, 3).join(', ')}); wrong study keys?`);
    }
  }

  private cursor(producer: string): number {
    const row = this.q.shaped('get-cursor', appliedRow, () => 'SELECT applied_seq FROM producer_cursor WHERE producer = ?').get(producer);
    return row?.applied_seq ?? 0;
  }

  /** apply + history + mark, in a savepoint: all three or none. */
  private applyAtomically(row: IncomingRow, keys: KeySet, recordWaits = true): Outcome {
    const now = new Date().toISOString();
    let outcome: Outcome;
    try {
      outcome = this.store.sql.savepoint(() => {
        const o = this.apply(row, keys, 'careful');
        if (o.kind === 'applied') {
          this.stmt('mark-consumed', () => `UPDATE incoming_transaction SET is_consumed = 1, consumed_at = ?, is_ignored = 0, is_error = 0, error = NULL, deferred_reason = NULL,
            blocked_by = NULL, blocked_reason = NULL, retry_due = 0 WHERE id = ?`)
            .run(now, row.id);
        }
        return o;
      });
    } catch (e) {
      outcome = { kind: 'error', reason: describe(e) };
    }
    if (recordWaits || (outcome.kind !== 'blocked' && outcome.kind !== 'deferred')) this.record(row, outcome, now);
    return outcome;
  }

  /** Marks for the outcomes other than a plain apply (those are marked by the caller). */
  private record(row: IncomingRow, outcome: Outcome, now: string): void {
    // Set aside already by the device that passed it on (its decision arrived first): set aside here too.
    if ((outcome.kind === 'error' || outcome.kind === 'blocked') && this.setAsideUpstream(row)) return;
    switch (outcome.kind) {
      case 'applied':
      case 'deferred':
        return;
      case 'ignored':
        this.stmt('mark-ignored', () => `UPDATE incoming_transaction SET is_consumed = 1, consumed_at = ?, is_ignored = 1, is_error = 0, error = ?, deferred_reason = NULL,
          blocked_by = NULL, blocked_reason = NULL, retry_due = 0 WHERE id = ?`)
          .run(now, outcome.reason, row.id);
        return;
      case 'error': {
        // What another copy could fix (damaged on the way, invalid content) is asked for again automatically.
        const resend: 0 | 1 = /^(DECRYPT_FAILED|PAYLOAD_INVALID)\b/.test(outcome.reason) ? 1 : 0;
        this.stmt('mark-error', () => MARK_ERROR).run(markErrorArgs(outcome.reason, resend, now, row.id));
        return;
      }
      case 'blocked':
        this.stmt('mark-blocked', () => `UPDATE incoming_transaction SET blocked_by = ?, blocked_reason = ?, is_error = 0, error = NULL, deferred_reason = NULL,
          retry_due = 0 WHERE id = ?`).run(outcome.by, outcome.reason, row.id);
        // What this one blocked now waits for the same root.
        this.stmt('repoint-blocked', () => 'UPDATE incoming_transaction SET blocked_by = ?, blocked_reason = ? WHERE blocked_by = ?').run(outcome.by, outcome.reason, row.id);
        return;
      case 'conflict':
        this.stmt('mark-conflict', () => 'UPDATE incoming_transaction SET is_conflict = 1, is_error = 0, error = ?, blocked_by = NULL, blocked_reason = NULL, retry_due = 0 WHERE id = ?').run(outcome.reason, row.id);
        this.stmt('conflict', () => `INSERT INTO sync_conflict (incoming_id, tx_name, tx_pk, local_revision, incoming_base_revision, local_record, incoming_record, detected_at)
          VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(incoming_id) DO NOTHING`)
          .run(row.id, row.tx_name, row.tx_pk, outcome.localRevision, outcome.baseRevision, outcome.local ? JSON.stringify(outcome.local) : null, JSON.stringify(outcome.incoming), now);
        return;
      default: {
        const never: never = outcome;
        throw new Error(`unexpected outcome ${String(never)}`);
      }
    }
  }

  /** A decision to set `row` aside, made by the device it was received from, is here: applied; true when it was. */
  private setAsideUpstream(row: IncomingRow): boolean {
    const d = this.q.shaped('set-aside-of', setAsideRow, () => 'SELECT id, reason, user_created FROM set_aside WHERE transaction_id = ?').get(row.id);
    if (!d) return false;
    const by = this.q.shaped('set-aside-by', producerRow, () => `SELECT producer FROM incoming_transaction WHERE tx_name = 'edc.set_aside' AND tx_pk = ? AND action = 'I' AND is_consumed = 1`).get(d.id);
    return !!by && markSetAside(this.store, row.id, d.reason, d.user_created, { from: by.producer, failing: true });
  }

  /** Decides and writes one transaction. 'fast' skips the natural-key pre-check: the unique index throws instead. */
  private apply(row: IncomingRow, keys: KeySet, mode: 'fast' | 'careful'): Outcome {
    const model = MODELS.get(row.tx_name);
    if (!model) return { kind: 'error', reason: describe(new EdcError('MODEL_UNKNOWN', row.tx_name)) };
    if (row.schema_version > SCHEMA_VERSION) return { kind: 'error', reason: describe(new EdcError('SCHEMA_TOO_NEW', `schema ${row.schema_version} > ${SCHEMA_VERSION}`)) };
    const payload = this.chunkCache?.payloads.get(row.id) ?? this.decode(row, model, keys);
    if ('error' in payload) return { kind: 'error', reason: payload.error };
    const { record, baseRevision } = payload;
    if (row.action !== 'D') {
      // The same rules the write path applies, on what another device claims it wrote (domain/record-check.ts).
      const problem = recordProblem(model, record);
      if (problem) return { kind: 'error', reason: new EdcError('PAYLOAD_INVALID', `${model.txName} ${row.tx_pk}: ${problem}`).message };
    }
    // Only the revision decides; the whole record is read only for a conflict (which shows it).
    const revision = this.revisionOf(model.tableName, row.tx_pk);
    const conflict = (reason: string, holder?: RawRow): Outcome => {
      const local = holder ?? this.q.shaped(`get:${model.txName}`, recordRow, () => `SELECT * FROM "${model.tableName}" WHERE id = ?`).get(row.tx_pk) ?? null;
      return { kind: 'conflict', reason, localRevision: local ? Number(local.revision) : null, local, baseRevision, incoming: record };
    };

    switch (row.action) {
      case 'I': {
        if (revision !== null) return conflict(`${model.txName} ${row.tx_pk} already exists here at revision ${revision}`);
        const waiting = this.missingParent(model, row, record);
        if (waiting) return waiting;
        const holder = mode === 'careful' ? this.naturalKeyHolder(model, record) : undefined;
        if (holder) return conflict(`${model.txName} natural key (${model.naturalKeySql.join(', ')}) is already used by record ${String(holder.id)}`, holder);
        this.exec(model, 'I', mode, this.stmt(`ins:${model.txName}`, () => insertSql(model)), model.columns.map((c) => record[c.sql]));
        this.wrote(model.tableName, row.tx_pk, Number(record.revision));
        break;
      }
      case 'U': {
        if (revision === null) {
          if (this.wasDeleted(model, row.tx_pk)) return conflict(`${model.txName} ${row.tx_pk} was deleted here; the update was not applied`);
          return this.notHere(row, model.txName, row.tx_pk, `waiting for ${model.txName} ${row.tx_pk} (its insert has not arrived)`);
        }
        if (revision !== baseRevision) {
          return conflict(`${model.txName} ${row.tx_pk}: the update was made from revision ${baseRevision} but this copy is at revision ${revision}`);
        }
        const waiting = this.missingParent(model, row, record);
        if (waiting) return waiting;
        this.exec(model, 'U', mode, this.stmt(`upd:${model.txName}`, () => updateSql(model)),
          [...model.columns.filter((c) => c.sql !== 'id').map((c) => record[c.sql]), row.tx_pk, baseRevision]);
        this.wrote(model.tableName, row.tx_pk, Number(record.revision));
        break;
      }
      case 'D': {
        if (revision === null) {
          if (this.wasDeleted(model, row.tx_pk)) return { kind: 'ignored', reason: 'already deleted' };
          return this.notHere(row, model.txName, row.tx_pk, `waiting for ${model.txName} ${row.tx_pk} (its insert has not arrived)`);
        }
        if (revision !== baseRevision) {
          return conflict(`${model.txName} ${row.tx_pk}: deleted from revision ${baseRevision} but this copy is at revision ${revision}`);
        }
        this.exec(model, 'D', mode, this.stmt(`del:${model.txName}`, () => `DELETE FROM "${model.tableName}" WHERE id = ?`), [row.tx_pk]);
        this.wrote(model.tableName, row.tx_pk, null);
        this.chunkCache?.deleted.add(`${model.txName}\u0000${row.tx_pk}`);
        break;
      }
      default: {
        const never: never = row.action;
        return { kind: 'error', reason: `unknown action ${String(never)}` };
      }
    }
    const h = payload.history;
    const changes = h.changes ?? Object.fromEntries(model.columns.map((c) => [c.sql, row.action === 'D' ? [record[c.sql] ?? null, null] : [null, record[c.sql] ?? null]]));
    const history = [h.id, model.txName, row.tx_pk, row.action, row.action === 'D' ? baseRevision : Number(record.revision), JSON.stringify(changes), h.user, h.hostname, row.producer, h.at, row.id, h.reason ?? null];
    if (this.chunkCache) this.chunkCache.history.push(history);
    else this.stmt('history', () => HISTORY_SQL).later(history);
    if (model.txName === 'edc.set_aside' && row.action === 'I') {
      // A data manager further back set a transaction aside: so is this device's copy, if it came through that device.
      markSetAside(this.store, String(record.transaction_id), String(record.reason), String(record.user_created), { from: row.producer });
    }
    return { kind: 'applied' };
  }

  private decode(row: IncomingRow, model: Model, keys: KeySet): Payload | { error: string } {
    let plain: Buffer;
    try {
      plain = keys.decrypt(row.key_id, row.tx, envelopeAad(row));
    } catch (e) {
      return { error: describe(e) };
    }
    let json: unknown;
    try {
      json = JSON.parse(plain.toString('utf8'));
    } catch {
      return { error: describe(new EdcError('PAYLOAD_INVALID', 'not JSON')) };
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) return { error: describe(new EdcError('PAYLOAD_INVALID', parsed.error.issues[0]?.message)) };
    const p = parsed.data;
    if (row.schema_version < SCHEMA_VERSION && Object.keys(p.record).length > 0) {
      // Written by an older app version: read as today's schema (domain/upcast.ts).
      const current = row.action === 'I' ? null
        : this.q.shaped(`get:${model.txName}`, recordRow, () => `SELECT * FROM "${model.tableName}" WHERE id = ?`).get(row.tx_pk) ?? null;
      try {
        p.record = upcast(model.txName, p.record, row.schema_version, SCHEMA_VERSION, current);
      } catch (e) {
        return { error: describe(e) };
      }
    }
    if (row.action !== 'D' || Object.keys(p.record).length > 0) {
      if (p.record.id !== row.tx_pk) return { error: describe(new EdcError('PAYLOAD_INVALID', 'record id differs from the envelope txPk')) };
      const missing = model.columns.find((c) => !(c.sql in p.record));
      if (missing) return { error: describe(new EdcError('PAYLOAD_INVALID', `${model.txName} record lacks column ${missing.sql}`)) };
    }
    return p;
  }

  private missingParent(model: Model, row: IncomingRow, record: RawRow): Outcome | null {
    for (const p of model.parents) {
      const parentId = record[p.columnSql];
      if (parentId === null || parentId === undefined) continue;
      if (this.revisionOf(p.tableName, String(parentId)) === null) return this.notHere(row, p.txName, String(parentId), `waiting for parent ${p.txName} ${String(parentId)}`);
    }
    return null;
  }

  /**
   * `needId` of `needTx` is not here. Still on its way: deferred. Its insert failed here (or is itself blocked):
   * blocked by that failed transaction, and the producer moves on. It is a record of another model: it can never
   * apply, an error. Runs only when something is missing, never on the plain path.
   */
  private notHere(row: IncomingRow, needTx: string, needId: string, reason: string): Outcome {
    const failed = this.q.shaped('failed-insert', failedInsert, () => `SELECT id, blocked_by, blocked_reason, error FROM incoming_transaction
      WHERE tx_pk = ? AND (is_error = 1 OR blocked_by IS NOT NULL) AND tx_name = ? AND action = 'I' AND id <> ? LIMIT 1`)
      .get(needId, needTx, row.id);
    if (failed) {
      const by = failed.blocked_by ?? failed.id;
      return { kind: 'blocked', by, reason: (failed.blocked_by ? failed.blocked_reason : failed.error) ?? 'failed' };
    }
    // Its insert was set aside here (core/set-aside.ts): it will never apply, so neither will this; blocked by it (and
    // set aside with it when the same decision named this one too).
    const aside = this.q.shaped('set-aside-insert', asideInsert, () => `SELECT a.transaction_id, a.reason FROM set_aside a JOIN incoming_transaction i ON i.id = a.transaction_id
      WHERE a.tx_pk = ? AND a.tx_name = ? AND i.action = 'I' AND i.set_aside_at IS NOT NULL AND a.transaction_id <> ? LIMIT 1`)
      .get(needId, needTx, row.id);
    if (aside) return { kind: 'blocked', by: aside.transaction_id, reason: `set aside: ${aside.reason}` };
    for (const other of MODELS.values()) {
      if (other.txName === needTx) continue;
      if (this.stmt(`exists:${other.tableName}`, () => `SELECT 1 FROM "${other.tableName}" WHERE id = ?`).get(needId)) {
        return { kind: 'error', reason: describe(new EdcError('PARENT_INVALID', `${row.tx_name} ${row.tx_pk} names ${needId} as its ${needTx}, but that record is a ${other.txName}`)) };
      }
    }
    return { kind: 'deferred', reason };
  }

  private naturalKeyHolder(model: Model, record: RawRow): RawRow | undefined {
    const where = model.naturalKeySql.map((c) => `"${c}" = ?`).join(' AND ');
    return this.q.shaped(`nk:${model.txName}`, recordRow, () => `SELECT * FROM "${model.tableName}" WHERE ${where}`)
      .get(model.naturalKeySql.map((c) => record[c]));
  }

  private wasDeleted(model: Model, id: string): boolean {
    if (this.chunkCache?.deleted.has(`${model.txName}\u0000${id}`)) return true;
    return !!this.stmt('deleted', () => `SELECT 1 FROM audit_history WHERE tx_name = ? AND record_id = ? AND action = 'D'`).get(model.txName, id);
  }

  /**
   * A record's write. Fast: sent with the next statement (Query.later), since any failure aborts the fast chunk, which
   * is then redone 'careful'; careful: at once, so a constraint it hits is this transaction's error, in words.
   */
  private exec(model: Model, action: 'I' | 'U' | 'D', mode: 'fast' | 'careful', q: Query, values: unknown[]): void {
    if (mode === 'fast') {
      q.later(values);
      return;
    }
    try {
      q.run(values);
    } catch (e) {
      throw mapDbError(e, model, action);
    }
  }

  private assertConsumingRole(what: string): void {
    if (!CONSUMING_ROLES.includes(this.store.role)) {
      throw new EdcError('ROLE_NOT_ALLOWED', `a ${this.store.role} device does not ${what}; only middleman, site and central do`);
    }
  }
}

function count(result: ConsumeResult, outcome: Exclude<Outcome, { kind: 'deferred' }>): void {
  switch (outcome.kind) {
    case 'applied': result.applied++; break;
    case 'ignored': result.ignored++; break;
    case 'error': result.errors++; break;
    case 'conflict': result.conflicts++; break;
    case 'blocked': result.blocked++; break;
    default: {
      const never: never = outcome;
      throw new Error(`unexpected outcome ${String(never)}`);
    }
  }
}

function describe(e: unknown): string {
  if (isEdcError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** Times a drain waits busy_timeout (5 s) for another writer before it gives up with BUSY (about 10 minutes). */
const BUSY_WAITS = 120;

/** SQLite could not get the write lock within busy_timeout: not a constraint to isolate, the whole step failed. */
function isBusy(e: unknown): boolean {
  return dbFault(e) === 'busy';
}
