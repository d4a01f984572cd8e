/**
 * The narrow storage port the sync core (write path, consumer, status, study) is written against. SQLite
 * (better-sqlite3, this file) is the embedded default; PostgreSQL (pg-port.ts: a pg client in a worker thread that
 * the calling thread waits on, so the core's synchronous, one-writer transactions keep their meaning) is the
 * central store's option. The SQL the core uses is kept to what both dialects accept (INSERT … ON CONFLICT,
 * count(*) FILTER, IS NOT DISTINCT FROM, window functions, coalesce, integer booleans); the few constructs that
 * differ are spelled once, in dialect.ts.
 */
import type Database from 'better-sqlite3';

export interface Query {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
  /**
   * A write whose result the caller does not need, inside a write transaction: the port may send it together with the
   * next statement (PostgreSQL: one round trip for many). Its failure fails the transaction no later than that next
   * statement, the savepoint's end or the commit, so only code that lets any failure abort the whole unit uses it
   * (the consumer's fast chunk, which is then redone one transaction at a time). SQLite runs it at once. On
   * PostgreSQL a run of one INSERT is sent as one statement of many rows, whose foreign keys are checked at its end:
   * callers keep a parent before its child (the consumer checks parents first).
   */
  later(...params: unknown[]): void;
}

export type Dialect = 'sqlite' | 'postgres';

export interface SqlPort {
  readonly dialect: Dialect;
  /** A prepared statement with `?` placeholders (callers keep and reuse it). */
  prepare(sql: string): Query;
  /** One write transaction (BEGIN IMMEDIATE on SQLite: the single writer). Nested calls join the outer one. */
  transaction<T>(fn: () => T): T;
  /** Inside a transaction: fn's writes are undone if it throws, the transaction goes on. */
  savepoint<T>(fn: () => T): T;
  readonly inTransaction: boolean;
  /** Opens or closes the write guard for the rest of the current transaction (PostgreSQL; SQLite asks the store). */
  setGuard(open: boolean): void;
  close(): void;
}

/** What a failed statement means to the core, whichever database raised it (SQLite codes, PostgreSQL SQLSTATEs). */
export type DbFault = 'unique' | 'foreign-key' | 'busy' | null;

export function dbFault(e: unknown): DbFault {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') return 'unique';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') return 'foreign-key';
  if (code.startsWith('SQLITE_BUSY')) return 'busy';
  return null;
}

export class SqlitePort implements SqlPort {
  readonly dialect = 'sqlite' as const;

  constructor(readonly db: Database.Database) {}

  prepare(sql: string): Query {
    const s = this.db.prepare(sql);
    return Object.assign(s, { later: (...params: unknown[]) => { s.run(...params); } });
  }

  transaction<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }

  savepoint<T>(fn: () => T): T {
    if (!this.db.inTransaction) throw new Error('savepoint outside a transaction');
    return this.db.transaction(fn)(); // better-sqlite3 nests as SAVEPOINT … RELEASE / ROLLBACK TO
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  setGuard(): void {
    // SQLite's triggers call edc_write_guard(), a function the store registered on its connection (store.ts).
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * A per-owner cache of prepared statements, keyed by a short name; the SQL is only built the first time.
 * (The write path and the consumer prepare each statement once and run it for every transaction.)
 */
export function statementCache(port: SqlPort): (key: string, sql: () => string) => Query {
  const cache = new Map<string, Query>();
  return (key, sql) => {
    let q = cache.get(key);
    if (!q) {
      q = port.prepare(sql());
      cache.set(key, q);
    }
    return q;
  };
}
