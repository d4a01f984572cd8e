/**
 * The storage port (port.ts) served by PostgreSQL, for the central store (DESIGN section 9). The sync core's
 * transactions are synchronous, one writer at a time; so is this port: each statement goes to the store's own
 * worker thread (pg-worker.ts, one `pg` connection) and the calling thread waits on a shared flag (Atomics.wait)
 * for the answer, read back with receiveMessageOnPort. Long work (import, consume) runs in chunks that give the
 * event loop back between them, as on SQLite.
 *
 * Dialect: `?` placeholders become `$1…$n`; a write transaction takes one advisory lock, so writers queue as with
 * SQLite's BEGIN IMMEDIATE (across processes too); the write guard is a transaction-local setting
 * (migrations-pg/0001_write_guard.sql).
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { EdcError } from '../../../shared/errors.ts';
import { startWorker } from '../worker-thread.ts';
import { cut } from './pg-script.ts';
import type { Query, SqlPort } from './port.ts';
import type { Reply, Request } from './pg-worker.ts';

/** How long one statement may take before the store gives up on the database (a hung server, a lost network). */
const STATEMENT_WAIT_MS = 120_000;
const WRITER_LOCK = 7270401;
/** Writes held back (Query.later) before they are sent on their own: bounds the memory and the size of one script. */
const MAX_DEFERRED = 1000;
const MAX_DEFERRED_BYTES = 4 * 1024 * 1024;

/**
 * The length of `values` as literals in a script (pg-script.ts), or -1 when one of them cannot be one with the same
 * meaning as a bound value: a string holding NUL (it would end the query text: the server refuses the whole message
 * instead of the one value), bytes (text columns read them as text, bytea as bytes), objects and arrays.
 */
function inlinedSize(values: readonly unknown[]): number {
  let n = 0;
  for (const v of values) {
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return -1;
      n += v.length + 2;
    } else if (v === null || v === undefined || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') n += 24;
    else return -1;
  }
  return n;
}

/** `?` → `$n`, outside quoted strings and identifiers. */
export function numberPlaceholders(sql: string): string {
  const { pieces, slots } = cut(sql);
  return pieces.reduce((out, piece, k) => `${out}$${slots[k - 1]}${piece}`);
}

/** A database URL with its password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

export class PgPort implements SqlPort {
  readonly dialect = 'postgres' as const;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  private depth = 0;
  private savepoints = 0;
  private guardOpen = false;
  /** A statement failed inside the transaction: PostgreSQL refuses everything until ROLLBACK (TO SAVEPOINT). */
  private aborted = false;
  /** The connection broke inside the transaction: nothing more may run in it (a reconnect would run it piecemeal). */
  private lost = false;
  /** Writes sent later (Query.later), with the next request: statements and their values, in order. */
  private deferred: { text: string; values: unknown[] }[] = [];
  /** About how long the script of the held-back writes is (their values' text): bounded by MAX_DEFERRED_BYTES. */
  private deferredBytes = 0;
  private names = 0;
  private requests = 0;
  private closed = false;

  constructor(private readonly url: string, migrationsDir: string) {
    const flag = new SharedArrayBuffer(4);
    this.signal = new Int32Array(flag);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const options = { workerData: { url, flag, port: port2, migrationsDir }, transferList: [port2] };
    // A worker that cannot load still wakes the waiting thread, with the reason.
    const onLoadError = "const { workerData: d } = require('node:worker_threads'); d.port.postMessage({ ok: false, message: String(e), unreachable: true }); const f = new Int32Array(d.flag); Atomics.store(f, 0, 1); Atomics.notify(f, 0);";
    this.worker = startWorker(import.meta.url, ['./pg-worker.mjs', './db/pg-worker.mjs', './pg-worker.ts'], options, onLoadError);
    this.worker.unref();
    this.port.unref();
  }

  private call(req: Request, ending = false): Extract<Reply, { ok: true }> {
    if (this.closed) throw new EdcError('DB_UNAVAILABLE', 'the store is closed');
    if (this.lost && !ending) throw new EdcError('DB_UNAVAILABLE', `${redactUrl(this.url)}: the connection was lost during this transaction; it was rolled back`);
    // Each request carries a number its reply echoes: a reply is only ever taken for the request it answers.
    const id = ++this.requests;
    Atomics.store(this.signal, 0, 0);
    let sent: Request = req;
    if (req.op === 'query' || req.op === 'exec') {
      // The writes held back go first, in the same round trip; ROLLBACK (ending) never carries them.
      const before = ending ? [] : this.deferred;
      this.deferred = [];
      this.deferredBytes = 0;
      sent = { ...req, tx: this.depth > 0, ...(before.length ? { before } : {}) };
    }
    this.port.postMessage({ ...sent, id });
    let reply: Reply | undefined;
    for (;;) {
      for (let msg = receiveMessageOnPort(this.port); msg; msg = receiveMessageOnPort(this.port)) {
        const m = msg.message as Reply & { id?: number };
        if (m.id === id || (m.id === undefined && !m.ok)) { // (no number: the worker could not even load)
          reply = m;
          break;
        }
        process.emitWarning(`pg-port: dropped a reply to request ${String(m.id)} while waiting for ${id}`);
      }
      if (reply) break;
      if (Atomics.wait(this.signal, 0, 0, STATEMENT_WAIT_MS) === 'timed-out') {
        this.closed = true;
        void this.worker.terminate();
        throw new EdcError('DB_UNAVAILABLE', `no answer from ${redactUrl(this.url)} within ${STATEMENT_WAIT_MS / 1000} s`);
      }
      // Woken: the reply is in the port's queue (the worker posts it before it sets the flag). Reset the flag
      // before reading, so a reply posted after this read still wakes the next wait.
      Atomics.store(this.signal, 0, 0);
    }
    if (!reply.ok) {
      if (this.depth > 0) this.aborted = true;
      if (reply.unreachable) {
        if (this.depth > 0) this.lost = true;
        throw new EdcError('DB_UNAVAILABLE', `${redactUrl(this.url)}: ${reply.message}`);
      }
      // The SQLSTATE stays the error's code: dbFault() and classifyError() read it (unique, foreign key, disk full).
      throw Object.assign(new Error(reply.message), { code: reply.code });
    }
    return reply;
  }

  /** Applies migrations-pg/ (pg-worker.ts); the newest migration time the database had recorded before. */
  migrate(): { applied: number; newest: number | null } {
    const r = this.call({ op: 'migrate' });
    return { applied: r.applied ?? 0, newest: r.newest ?? null };
  }

  prepare(sql: string): Query {
    const text = numberPlaceholders(sql);
    const name = `s${++this.names}`;
    // better-sqlite3 also binds one array argument as the list of values; so does this port.
    const run = (params: unknown[]) => this.call({ op: 'query', text, values: params.length === 1 && Array.isArray(params[0]) ? params[0] : params, name, tx: true });
    return {
      get: (...params) => fixRow(run(params).rows?.[0]),
      all: (...params) => (run(params).rows ?? []).map((r) => fixRow(r)!),
      run: (...params) => ({ changes: run(params).rowCount ?? 0 }),
      later: (...params) => {
        const values = params.length === 1 && Array.isArray(params[0]) ? params[0] as unknown[] : params;
        // Sent at once, bound (after what is held back, so the order stays): outside a transaction, and any value the
        // script could not carry as the same literal (a NUL ends PostgreSQL's query text; bytes, objects).
        const size = this.depth === 0 || this.aborted ? -1 : inlinedSize(values);
        if (size < 0) {
          run(values);
          return;
        }
        this.deferred.push({ text, values });
        this.deferredBytes += size + text.length;
        if (this.deferred.length >= MAX_DEFERRED || this.deferredBytes >= MAX_DEFERRED_BYTES) this.call({ op: 'exec', tx: true, text: '' });
      },
    };
  }

  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.call({ op: 'exec', tx: true, text: `BEGIN; SELECT pg_advisory_xact_lock(${WRITER_LOCK})` });
    this.depth = 1;
    this.aborted = false;
    try {
      const out = fn();
      // PostgreSQL answers COMMIT of a transaction a failed statement aborted with a silent rollback: never report that as saved.
      if (this.aborted) throw new Error('a statement failed inside the transaction and the failure was caught: the transaction is rolled back, not committed');
      this.call({ op: 'exec', tx: true, text: 'COMMIT' });
      this.depth = 0;
      this.guardOpen = false;
      return out;
    } catch (err) {
      this.deferred = []; // never sent: the transaction is rolled back
      this.deferredBytes = 0;
      this.depth = 0;
      this.guardOpen = false;
      const lost = this.lost;
      this.lost = false;
      if (!lost) {
        try {
          this.call({ op: 'exec', tx: true, text: 'ROLLBACK' }, true);
        } catch {
          // the connection went just now: the server rolls the transaction back itself
        }
      }
      throw err;
    }
  }

  savepoint<T>(fn: () => T): T {
    if (this.depth === 0) throw new Error('savepoint outside a transaction');
    const name = `sp${++this.savepoints}`;
    this.call({ op: 'exec', tx: true, text: `SAVEPOINT ${name}` });
    const guard = this.guardOpen;
    try {
      const out = fn();
      this.call({ op: 'exec', tx: true, text: `RELEASE SAVEPOINT ${name}` });
      return out;
    } catch (err) {
      this.deferred = []; // written inside the savepoint (SAVEPOINT sent what came before): undone with it
      this.deferredBytes = 0;
      this.call({ op: 'exec', tx: true, text: `ROLLBACK TO SAVEPOINT ${name}` });
      this.aborted = false;
      this.guardOpen = guard; // ROLLBACK TO also undoes a set_config made since the savepoint
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  /** Opens or closes the write guard for the rest of the current transaction. */
  setGuard(open: boolean): void {
    if (this.depth === 0 || this.aborted || open === this.guardOpen) return;
    this.call({ op: 'exec', tx: true, text: `SELECT set_config('edc.write_guard', '${open ? '1' : '0'}', true)` });
    this.guardOpen = open;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: 'close' });
    } catch {
      // closing a store whose database is gone
    }
    this.closed = true;
    void this.worker.terminate();
  }
}

/** Buffers cross the thread as Uint8Array: give them back their Buffer type (bytea columns). */
function fixRow(row: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!row) return row;
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}
