/**
 * Typed statements over the storage port (port.ts), so no caller writes the shape of a query's rows by hand:
 *
 *  - `rowsOf(port, table, sql)`: a statement that selects whole rows of one drizzle table (`SELECT * FROM t …`, or
 *    `SELECT t.* …`). Its rows are typed from the schema (db/schema.ts), by their SQL column names, as both drivers
 *    return them: booleans as the integers 0 / 1 they are stored as, blobs as Buffer, nullable columns as `| null`.
 *    Not checked at run time (the hot paths read thousands of rows a second); the schema and the migrations are
 *    kept equal by `npm run db:check` and pg-store.test, which is what makes the type true.
 *  - `shaped(port, schema, sql)`: any other projection (counts, sums, joins, a few columns), each row checked by a
 *    zod object schema, so a column renamed or an aggregate that comes back as text (PostgreSQL's bigint) fails
 *    loudly where it is read instead of somewhere later.
 *
 * Both keep `run` and `later` for statements that also write. Prepared once by the caller, as with `prepare`.
 */
import type { Column, Table } from 'drizzle-orm';
import type { z } from 'zod';
import { statementCache, type Query, type SqlPort } from './port.ts';

type ColumnsOf<T extends Table> = T['_']['columns'];
type Raw<C extends Column> = C['_']['data'] extends boolean ? 0 | 1 : C['_']['data'];

/** A row of `T` as SQL returns it: keyed by column name. */
export type SqlRow<T extends Table> = {
  -readonly [K in keyof ColumnsOf<T> as ColumnsOf<T>[K]['_']['name']]: ColumnsOf<T>[K]['_']['notNull'] extends true
    ? Raw<ColumnsOf<T>[K]>
    : Raw<ColumnsOf<T>[K]> | null;
};

export interface TypedQuery<R> {
  get(...params: unknown[]): R | undefined;
  all(...params: unknown[]): R[];
  run(...params: unknown[]): { changes: number };
  later(...params: unknown[]): void;
}

/** Whole rows of `table` (see the header). */
export function rowsOf<T extends Table>(port: SqlPort, table: T, sql: string): TypedQuery<SqlRow<T>> {
  void table; // names the row type; the statement is the caller's
  return port.prepare(sql) as TypedQuery<SqlRow<T>>;
}

/** Rows of any other shape, each checked by `schema` (see the header). */
export function shaped<S extends z.ZodType<Record<string, unknown>>>(port: SqlPort, schema: S, sql: string): TypedQuery<z.infer<S>> {
  return typedBy(port.prepare(sql), schema);
}

/** A prepared statement (a statement cache's) read through `schema`. */
export function typedBy<S extends z.ZodType<Record<string, unknown>>>(q: Query, schema: S): TypedQuery<z.infer<S>> {
  return {
    get: (...params) => {
      const row = q.get(...params);
      return row === undefined ? undefined : schema.parse(row);
    },
    all: (...params) => q.all(...params).map((row) => schema.parse(row)),
    run: (...params) => q.run(...params),
    later: (...params) => q.later(...params),
  };
}

/**
 * A per-owner cache of typed statements (as statementCache, port.ts): `rows` for whole rows of a table, `shaped` for
 * projections checked by zod, `write` for statements whose rows nobody reads. Each statement is built once by key.
 */
export function typedStatements(port: SqlPort) {
  const cache = statementCache(port);
  const typed = new Map<string, TypedQuery<unknown>>();
  const once = <R>(key: string, make: () => TypedQuery<R>): TypedQuery<R> => {
    let q = typed.get(key) as TypedQuery<R> | undefined;
    if (!q) typed.set(key, q = make());
    return q;
  };
  return {
    rows: <T extends Table>(key: string, table: T, sql: () => string): TypedQuery<SqlRow<T>> => once(key, () => cache(key, sql) as TypedQuery<SqlRow<T>>),
    shaped: <S extends z.ZodType<Record<string, unknown>>>(key: string, schema: S, sql: () => string): TypedQuery<z.infer<S>> => once(key, () => typedBy(cache(key, sql), schema)),
    write: (key: string, sql: () => string): Query => cache(key, sql),
  };
}
