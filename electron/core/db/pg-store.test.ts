/**
 * The central store on PostgreSQL (issue 12), against a real PostgreSQL 15 cluster this test starts itself
 * (testing/postgres.ts): the derived schema matches SQLite's table by table, every migration applies in turn and
 * keeps what was stored, the write guard refuses a second connection, `init --database` and its failures, a
 * database written by a newer app. The shared suites run on it too (scripts/test-all.sh, EDC_TEST_STORE=postgres).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getTableColumns, type Table } from 'drizzle-orm';
import { getTableConfig as pgConfig, type PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { main } from '../../cli.ts';
import { isEdcError } from '../../../shared/errors.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../crypto/keyset.ts';
import { Study } from '../domain/study.ts';
import { MIGRATIONS_PG_DIR, readJournal, Store } from '../store.ts';
import { startPostgres, type PgCluster } from '../testing/postgres.ts';
import { numberPlaceholders } from './pg-port.ts';
import * as sqliteSchema from './schema.ts';
import * as pgSchema from './schema-pg.ts';

const ra = { user: 'ra.test' };
const registration = { firstName: 'Naledi', lastName: 'Mogale', dob: '1990-04-02', identityNumber: '123456789', phone: null, gender: 'F' as const, registrationDatetime: '2026-01-05T08:00:00.000Z' };

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'edc-sync', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: { EDC_SYNC_USER: 'tester', ...env }, readSecret: async () => 'secret' });
  return { code, out, err };
}

describe('the store on PostgreSQL', () => {
  let pg: PgCluster;
  let root: string;
  before(() => {
    pg = startPostgres();
    root = mkdtempSync(path.join(os.tmpdir(), 'edc-pgstore-'));
  });
  after(() => {
    pg.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('schema-pg describes the same tables, columns, keys and indexes as schema.ts', () => {
    const isTable = (v: unknown) => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v;
    const lite = Object.entries(sqliteSchema).filter(([, v]) => isTable(v)) as [string, SQLiteTable][];
    const pgs = new Map(Object.entries(pgSchema).filter(([k, v]) => k !== 'pgTables' && isTable(v)) as [string, PgTable][]);
    assert.deepEqual([...pgs.keys()].sort(), lite.map(([k]) => k).sort(), 'every table has its PostgreSQL export');
    for (const [name, t] of lite) {
      const a = sqliteConfig(t);
      const b = pgConfig(pgs.get(name)!);
      assert.equal(b.name, a.name);
      const cols = (tb: Table) => Object.values(getTableColumns(tb)).map((c) => [c.name, c.notNull, c.primary, c.hasDefault].join(':')).sort();
      assert.deepEqual(cols(pgs.get(name)!), cols(t), `${a.name}: columns`);
      const ix = (list: { config: { name: string; unique: boolean; columns: unknown[] } }[]) =>
        list.map((i) => [i.config.name, i.config.unique, (i.config.columns as { name: string }[]).map((c) => c.name).join(',')].join(':')).sort();
      assert.deepEqual(ix(b.indexes as never), ix(a.indexes as never), `${a.name}: indexes`);
      const fks = (list: { reference(): { columns: { name: string }[]; foreignColumns: { name: string }[] } }[]) =>
        list.map((f) => { const r = f.reference(); return `${r.columns.map((c) => c.name).join()}→${r.foreignColumns.map((c) => c.name).join()}`; }).sort();
      assert.deepEqual(fks(b.foreignKeys as never), fks(a.foreignKeys as never), `${a.name}: foreign keys`);
    }
  });

  it('placeholders become $n outside quoted text', () => {
    assert.equal(numberPlaceholders(`SELECT '?' AS "a?", x FROM t WHERE a = ? AND b IN (?, ?)`), `SELECT '?' AS "a?", x FROM t WHERE a = $1 AND b IN ($2, $3)`);
  });

  it('each migration applies on top of the last and keeps what was stored', () => {
    const journal = readJournal(MIGRATIONS_PG_DIR);
    const url = pg.createDatabase();
    const dir = path.join(root, 'steps');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ role: 'central', deviceId: 'central-m', database: url }));
    for (let n = 1; n <= journal.entries.length; n++) {
      const m = path.join(root, `pg-m${n}`);
      cpSync(MIGRATIONS_PG_DIR, m, { recursive: true });
      const jf = path.join(m, 'meta', '_journal.json');
      const j = JSON.parse(readFileSync(jf, 'utf8')) as { entries: unknown[] };
      j.entries = j.entries.slice(0, n);
      writeFileSync(jf, JSON.stringify(j));
      const s = Store.open(dir, { migrationsDir: m });
      s.setState(`step-${n}`, String(n));
      for (let k = 1; k <= n; k++) assert.equal(s.getState(`step-${k}`), String(k), `state written before migration ${n} is still there`);
      s.close();
    }
    const db = new URL(url).pathname.slice(1);
    const tables = pg.psql(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'edc_migration'").trim();
    assert.equal(Number(tables), Object.keys(pgSchema).filter((k) => k !== 'pgTables').length);
    assert.equal(pg.psql(db, 'SELECT count(*) FROM edc_migration').trim(), String(journal.entries.length));
  });

  it('the write guard refuses a direct write from a second connection; the write path works', () => {
    const url = pg.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const store = Store.init(path.join(root, 'guard'), 'central', 'central-g', { database: url });
    writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), KeySet.generate());
    try {
      const study = new Study(store);
      const s = study.registerSubject(registration, ra);
      study.write.update('edc.subject', String(s.id), { gender: 'M' }, ra);
      const refused = (sql: string, re: RegExp) => assert.throws(() => pg.psql(db, sql), (e: Error & { stderr?: string }) => re.test(String(e.stderr)), sql);
      refused("UPDATE subject SET gender = 'F'", /WRITE_OUTSIDE_PATH: subject/);
      refused('DELETE FROM subject', /WRITE_OUTSIDE_PATH: subject/);
      refused('TRUNCATE subject CASCADE', /WRITE_OUTSIDE_PATH/);
      refused("INSERT INTO consent (id, created, modified, user_created, user_modified, hostname_created, hostname_modified, device_id, revision, subject_id, version, consent_datetime, is_literate, language) SELECT 'x', '', '', '', '', '', '', '', 1, id, '1', '', 1, 'en' FROM subject", /WRITE_OUTSIDE_PATH: consent/);
      refused("UPDATE audit_history SET \"user\" = 'someone'", /append-only/);
      refused('DELETE FROM audit_history', /append-only/);
      refused('DELETE FROM outgoing_transaction', /WRITE_OUTSIDE_PATH/);
      refused("UPDATE outgoing_transaction SET tx_pk = 'other'", /only delivery marks/);
      // Delivery marks may change outside the write path (the sender marks what was acknowledged).
      pg.psql(db, 'UPDATE outgoing_transaction SET is_consumed_server = 1');
      assert.equal(pg.psql(db, 'SELECT gender FROM subject').trim(), 'M');
      assert.equal(pg.psql(db, 'SELECT count(*) FROM audit_history').trim(), '2');
      // A natural key taken is the same coded error as on SQLite, and the transaction goes on being usable.
      const consent = { subjectId: String(s.id), version: '1.0', consentDatetime: '2026-01-05T08:00:00.000Z', isLiterate: true, language: 'en' };
      study.write.insert('edc.consent', consent, ra);
      assert.throws(() => study.write.insert('edc.consent', consent, ra), (e: unknown) => isEdcError(e, 'NATURAL_KEY_TAKEN'));
      assert.equal(pg.psql(db, 'SELECT count(*) FROM consent').trim(), '1');
    } finally {
      store.close();
    }
  });

  it('a read-only analyst reads the documented views (joined to participant and visit, PII still ciphertext), never the sync tables', () => {
    const url = pg.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const store = Store.init(path.join(root, 'analysis'), 'central', 'central-a', { database: url });
    writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), KeySet.generate());
    try {
      const study = new Study(store);
      const s = study.registerSubject(registration, ra);
      const v = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
      study.write.insert('edc.vital_signs', { visitId: String(v.id), weightKg: 61.5, heightCm: 160, systolic: 120, diastolic: 80, temperatureC: 36.8 }, ra);
      // The README's grant, as the database's administrator.
      pg.psql(db, 'CREATE ROLE statistician LOGIN; GRANT USAGE ON SCHEMA analysis TO statistician; GRANT SELECT ON ALL TABLES IN SCHEMA analysis TO statistician');
      const as = (sql: string) => pg.psql(db, sql, 'statistician').trim();
      assert.equal(as('SELECT subject_identifier, visit_code, weight_kg, temperature_c FROM analysis.vital_signs'), `${String(s.subject_identifier)}|1000|61.5|36.8`);
      const first = as('SELECT first_name FROM analysis.subject');
      assert.ok(first.length > 0 && !first.includes('Naledi'), 'PII stays ciphertext');
      const views = as("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.views WHERE table_schema = 'analysis'");
      assert.equal(views, 'consent,follow_up,medical_history,set_aside,specimen_custody,specimen_reconciliation,specimen_requisition,subject,visit,vital_signs');
      for (const sql of ['SELECT * FROM public.subject', 'SELECT * FROM public.outgoing_transaction', 'SELECT * FROM public.device',
        "UPDATE analysis.subject SET gender = 'M'", 'DELETE FROM analysis.vital_signs']) {
        assert.throws(() => as(sql), (e: Error & { stderr?: string }) => /permission denied|cannot (update|delete from) view/.test(String(e.stderr)), sql);
      }
    } finally {
      store.close();
    }
  });

  it('init --database: tables in PostgreSQL, keys and settings in the data folder; status and the CLI work on it', async () => {
    const url = pg.createDatabase('central_cli');
    const data = path.join(root, 'cli-central');
    const init = await cli(['--data', data, 'init', '--role', 'central', '--device-id', 'central-1', '--database', url]);
    assert.equal(init.code, 0, init.err.join('\n'));
    assert.match(init.out.join('\n'), /tables in postgres:\/\/edc@127\.0\.0\.1:\d+\/central_cli/);
    assert.ok(!existsSync(path.join(data, 'edc-sync.db')), 'no SQLite file');
    assert.ok(existsSync(path.join(data, 'settings.json')));
    assert.equal((await cli(['--data', data, 'keys', 'create'])).code, 0);
    const status = await cli(['--data', data, 'status', '--json']);
    assert.equal(status.code, 0, status.err.join('\n'));
    assert.equal(JSON.parse(status.out.join('\n')).role, 'central');
    // The same from the environment.
    const envData = path.join(root, 'cli-central-env');
    const viaEnv = await cli(['--data', envData, 'init', '--role', 'site', '--device-id', 'site-9'], { EDC_SYNC_DATABASE: pg.createDatabase() });
    assert.equal(viaEnv.code, 0, viaEnv.err.join('\n'));
    // A laptop keeps its store in its data folder.
    const field = await cli(['--data', path.join(root, 'cli-field'), 'init', '--role', 'field', '--device-id', 'ra-9', '--database', pg.createDatabase()]);
    assert.equal(field.code, 1);
    assert.match(field.err.join('\n'), /ROLE_NOT_ALLOWED/);
    // Switching an existing store between SQLite and PostgreSQL is refused.
    const sw = await cli(['--data', data, 'config', 'set', 'database', '']);
    assert.equal(sw.code, 1);
    assert.match(sw.err.join('\n'), /chosen once, at init/);
  });

  it('an unreachable server, a wrong password or a missing database at init: one plain line, exit 1, nothing left behind', async () => {
    const cases = [
      `postgres://edc@127.0.0.1:1/central`, // nothing listens there
      `postgres://nobody@127.0.0.1:${pg.port}/central_cli`, // no such role
      `postgres://edc@127.0.0.1:${pg.port}/no_such_db`,
    ];
    for (const [i, url] of cases.entries()) {
      const data = path.join(root, `bad-${i}`);
      const r = await cli(['--data', data, 'init', '--role', 'central', '--device-id', 'central-x', '--database', url]);
      assert.equal(r.code, 1, url);
      assert.equal(r.err.length, 1, r.err.join('\n'));
      assert.match(r.err[0]!, /cannot be reached.*\[DB_UNAVAILABLE\]$/);
      assert.ok(!existsSync(data), 'no data folder left half-made');
    }
    // A password in the URL never reaches a message.
    const r = await cli(['--data', path.join(root, 'bad-pw'), 'init', '--role', 'central', '--device-id', 'central-x', '--database', `postgres://edc:s3cret@127.0.0.1:1/central`]);
    assert.doesNotMatch(r.err.join('\n'), /s3cret/);
  });

  it('a database written by a newer app is refused, not changed', () => {
    const url = pg.createDatabase();
    const dir = path.join(root, 'newer');
    Store.init(dir, 'central', 'central-n', { database: url }).close();
    const db = new URL(url).pathname.slice(1);
    pg.psql(db, `INSERT INTO edc_migration (tag, created_at, applied_at) VALUES ('9999_future', ${Date.now() + 10 * 365 * 86_400_000}, 'later')`);
    assert.throws(() => Store.open(dir), (e: unknown) => isEdcError(e, 'STORE_NEWER'));
  });
});
