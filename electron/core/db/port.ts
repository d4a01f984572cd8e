/**
 * The narrow storage port the sync core (write path, consumer, status, study) is written against. SQLite
 * (better-sqlite3) is its first driver. A PostgreSQL driver for the central server (DESIGN section 9) is an
 * addition: drizzle's pg schema beside db/schema.ts, `?` → `$n` placeholders, and this port served by a pg client
 * in a worker thread that the calling thread waits on (Atomics.wait), so the core's synchronous, one-writer
 * transactions keep their meaning. The SQL the core uses is kept to what both dialects accept
 * (INSERT … ON CONFLICT, window functions, coalesce, integer booleans).
 */
import type Database from 'better-sqlite3';

export interface Query {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

export interface SqlPort {
  readonly dialect: 'sqlite';
  /** A prepared statement with `?` placeholders (callers keep and reuse it). */
  prepare(sql: string): Query;
  /** One write transaction (BEGIN IMMEDIATE on SQLite: the single writer). Nested calls join the outer one. */
  transaction<T>(fn: () => T): T;
  /** Inside a transaction: fn's writes are undone if it throws, the transaction goes on. */
  savepoint<T>(fn: () => T): T;
  readonly inTransaction: boolean;
}

export class SqlitePort implements SqlPort {
  readonly dialect = 'sqlite' as const;

  constructor(private readonly db: Database.Database) {}

  prepare(sql: string): Query {
    return this.db.prepare(sql);
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
