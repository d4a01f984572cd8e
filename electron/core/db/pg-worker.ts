/**
 * The PostgreSQL connection of one store, in its own worker thread (see pg-port.ts). It owns a single `pg`
 * client, answers one request at a time on the port it was given and wakes the waiting thread through the shared
 * flag. Plain Node: no Electron and no project module but pg-script.ts, so it can be bundled on its own.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';
import { script, type Deferred } from './pg-script.ts';

interface Data { url: string; flag: SharedArrayBuffer; port: MessagePort; migrationsDir: string }
const { url, flag, port, migrationsDir } = workerData as Data;
const signal = new Int32Array(flag);

// Integers come back as numbers (bigint columns, count(*), sum()): the store's values fit in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/** `tx`: sent inside a transaction: a broken connection is then an error, never a silent reconnect. */
/** `before`: writes held back by the caller (Query.later), run first, in order, in one round trip (runScript). */
export type Request =
  | { op: 'query'; text: string; values: unknown[]; name?: string; tx: boolean; before?: Deferred[] }
  | { op: 'exec'; text: string; tx: boolean; before?: Deferred[] }
  | { op: 'migrate' }
  | { op: 'close' };

export type Reply =
  | { ok: true; rows?: Record<string, unknown>[]; rowCount?: number; applied?: number; newest?: number | null }
  | { ok: false; message: string; code?: string; unreachable?: boolean };

let client: pg.Client | null = null;
let broken: Error | null = null;

async function connected(): Promise<pg.Client> {
  if (client && !broken) return client;
  if (client) await client.end().catch(() => {});
  broken = null;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'edc-sync' });
  c.on('error', (e) => { broken = e; }); // a dropped connection: the next request reconnects (outside a transaction)
  await c.connect();
  client = c;
  return c;
}

function values(v: unknown[]): unknown[] {
  // Buffers arrive as Uint8Array after the thread hop; undefined is SQL NULL as in better-sqlite3's bindings.
  return v.map((x) => (x instanceof Uint8Array && !Buffer.isBuffer(x) ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : x === undefined ? null : x));
}

/** The held-back writes as one multi-statement simple query: one round trip, in order (pg-script.ts). */
async function runScript(c: pg.Client, items: Deferred[]): Promise<void> {
  await c.query(script(items, (v) => c.escapeLiteral(v)));
}

interface Journal { entries: { idx: number; when: number; tag: string }[] }

/**
 * Applies migrations-pg/ in order, each in its own transaction, recorded in edc_migration (by tag and time); answers
 * the newest migration time recorded before, so the store can refuse a database written by a newer app.
 */
async function migrate(c: pg.Client): Promise<Reply> {
  const journal = JSON.parse(readFileSync(path.join(migrationsDir, 'meta', '_journal.json'), 'utf8')) as Journal;
  await c.query('CREATE TABLE IF NOT EXISTS edc_migration (tag text PRIMARY KEY, created_at bigint NOT NULL, applied_at text NOT NULL)');
  const done = new Set((await c.query<{ tag: string }>('SELECT tag FROM edc_migration')).rows.map((r) => r.tag));
  const newest = (await c.query<{ newest: number | null }>('SELECT max(created_at) AS newest FROM edc_migration')).rows[0]?.newest ?? null;
  let applied = 0;
  for (const e of journal.entries) {
    if (done.has(e.tag)) continue;
    const statements = readFileSync(path.join(migrationsDir, `${e.tag}.sql`), 'utf8').split('--> statement-breakpoint').map((s) => s.trim()).filter(Boolean);
    await c.query('BEGIN');
    try {
      // Two processes opening one new database: the second waits here, then finds the migration applied.
      await c.query('SELECT pg_advisory_xact_lock(7270400)');
      const again = await c.query('SELECT 1 FROM edc_migration WHERE tag = $1', [e.tag]);
      if (again.rowCount === 0) {
        for (const s of statements) await c.query(s);
        await c.query('INSERT INTO edc_migration (tag, created_at, applied_at) VALUES ($1, $2, $3)', [e.tag, e.when, new Date().toISOString()]);
        applied++;
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }
  return { ok: true, applied, newest };
}

async function handle(m: Request): Promise<Reply> {
  if (m.op === 'close') {
    await client?.end().catch(() => {});
    client = null;
    return { ok: true };
  }
  if (broken && 'tx' in m && m.tx) {
    return { ok: false, message: `the connection was lost inside a transaction (${broken.message})`, code: '08006', unreachable: true };
  }
  let c: pg.Client;
  try {
    c = await connected();
  } catch (err) {
    const e = err as Error & { code?: string };
    return { ok: false, message: e.message, code: e.code, unreachable: true };
  }
  if (m.op === 'migrate') return migrate(c);
  if (m.before?.length) await runScript(c, m.before);
  if (m.op === 'exec') {
    if (m.text) await c.query(m.text);
    return { ok: true };
  }
  const r = await c.query({ text: m.text, values: values(m.values), ...(m.name ? { name: m.name } : {}) });
  return { ok: true, rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
}

// One request at a time, in order (the caller waits for each answer); each reply echoes its request's number.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: Request & { id: number }) => {
  queue = queue.then(() => answer(m));
});

function answer(m: Request & { id: number }): Promise<void> {
  return handle(m)
    .catch((err: unknown): Reply => {
      const e = err as Error & { code?: string };
      // Connection exceptions (08…), the server shutting down or ending this session (57P0…), or a socket error: the
      // connection is gone; the next request reconnects.
      const gone = broken !== null || /^(08|57P0)/.test(e.code ?? '') || (e.code === undefined && /Connection terminated|ECONNRESET|EPIPE|not queryable/i.test(e.message));
      if (gone) broken ??= e;
      return { ok: false, message: e.message, code: e.code, unreachable: gone };
    })
    .then((reply) => {
      port.postMessage({ ...reply, id: m.id });
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
      if (m.op === 'close') port.close();
    });
}
