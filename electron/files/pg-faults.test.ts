/**
 * Central on PostgreSQL when the database fails (issue 12, deliverable 5), against a real PostgreSQL 15: the server
 * stopped in the middle of an import, a connection dropped inside a transaction, a full disk on the database's side.
 * Each time: a clear error, nothing half-applied, the files of what did not complete stay to be imported again, and
 * the retry ends with exactly what the laptop sent, once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyError, isEdcError } from '../../shared/errors.ts';
import { KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { startPostgres, type PgCluster } from '../core/testing/postgres.ts';
import { exportBatches } from './export.ts';
import { importBatches } from './import.ts';

const dataFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).sort();
const receipts = (dir: string) => (existsSync(path.join(dir, 'receipts')) ? readdirSync(path.join(dir, 'receipts')).filter((f) => f.endsWith('.json')) : []);

describe('central on PostgreSQL: the database fails during import', () => {
  let pg: PgCluster;
  let dirs: TestDirs;
  before(() => {
    pg = startPostgres();
    dirs = new TestDirs();
  });
  after(() => {
    dirs.cleanup();
    pg.destroy();
  });

  /** A field laptop's `batches` exported batches, in `dir`. */
  function laptopBatches(id: string, batches: number, subjects: number, dir: string) {
    const field = dirs.store('field', id);
    for (let i = 0; i < batches; i++) {
      seed(field, subjects, { seed: 40 + i });
      exportBatches(field, dir);
    }
    return field;
  }

  function central(id: string, url = pg.createDatabase()): Store {
    const s = dirs.track(Store.init(dirs.path(id), 'central', id, { database: url, hostname: `${id}.test` }));
    writeKeySetFile(path.join(s.keyDir, KEYSET_FILE), dirs.keys);
    return s;
  }

  const incomingCount = (s: Store) => (s.sql.prepare('SELECT count(*) AS n FROM incoming_transaction').get() as { n: number }).n;
  const outgoingCount = (s: Store) => (s.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;

  it('PostgreSQL stopped in the middle of an import: a clear error; restarted, the import resumes, every transaction once', () => {
    const inbox = dirs.path('inbox-stop');
    const field = laptopBatches('ra-pf1', 4, 4, inbox);
    const c = central('central-pf1');
    assert.equal(dataFiles(inbox).length, 4);
    let stopped = false;
    assert.throws(() => importBatches(c, inbox, (p) => {
      if (p.phase === 'import' && p.done === 1 && !stopped) {
        stopped = true;
        pg.stop(); // the database server goes down after the first batch
      }
    }), (e: unknown) => isEdcError(e, 'DB_UNAVAILABLE'));
    assert.equal(dataFiles(inbox).length, 3, 'the batches not imported are still waiting in the folder');
    assert.equal(receipts(inbox).length, 1, 'a receipt only for what was imported');
    // While it is down, any use of the store says so plainly.
    assert.throws(() => readStatus(c), (e: unknown) => isEdcError(e, 'DB_UNAVAILABLE'));
    pg.start();
    const again = importBatches(c, inbox);
    assert.equal(again.imported.length, 3);
    assert.equal(dataFiles(inbox).length, 0);
    assert.equal(receipts(inbox).length, 4);
    assert.equal(incomingCount(c), outgoingCount(field), 'every transaction once');
    const st = readStatus(c).incoming;
    assert.deepEqual([st.consumed, st.pending, st.error], [outgoingCount(field), 0, 0]);
    assert.deepEqual(snapshot(c), snapshot(field));
  });

  it('a connection dropped inside a transaction: that transaction is rolled back whole, nothing runs outside it, the store reconnects and the import completes exactly', () => {
    const inbox = dirs.path('inbox-drop');
    const field = laptopBatches('ra-pf2', 2, 4, inbox);
    const c = central('central-pf2');
    const db = new URL(c.settings.database).pathname.slice(1);
    const terminate = () => pg.psql(db, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = 'edc-sync' AND pid <> pg_backend_pid()");
    assert.throws(() => c.sql.transaction(() => {
      c.setState('half', 'written');
      terminate();
      c.setState('after', 'the drop'); // must not run on a new connection outside the transaction
    }), (e: unknown) => isEdcError(e, 'DB_UNAVAILABLE'));
    assert.equal(c.getState('half'), null, 'rolled back');
    assert.equal(c.getState('after'), null, 'nothing ran after the drop');
    // In the middle of an import's consume: the database ends the session while the consumer's transaction is
    // writing history (a trigger that fires once, by a sequence, which a rollback does not undo).
    pg.psql(db, `CREATE SEQUENCE drop_once; CREATE FUNCTION drop_session() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF nextval('drop_once') = 3 THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(1); END IF; RETURN NEW; END $$;
      CREATE TRIGGER drop_session AFTER INSERT ON audit_history FOR EACH ROW EXECUTE FUNCTION drop_session()`);
    // The chunk whose session ended is rolled back whole and done again on a new connection: the import completes.
    const r = importBatches(c, inbox);
    assert.ok(Number(pg.psql(db, 'SELECT last_value FROM drop_once')) > 3, 'the session was ended mid-consume');
    assert.equal(r.imported.length, 2);
    const applied = (c.sql.prepare('SELECT count(*) AS n FROM audit_history').get() as { n: number }).n;
    assert.equal(applied, outgoingCount(field), 'each transaction applied once: one history row each, none from the rolled-back chunk');
    assert.equal(r.quarantined.length, 0);
    assert.equal(incomingCount(c), outgoingCount(field));
    assert.deepEqual(snapshot(c), snapshot(field));
    assert.equal(receipts(inbox).length, 2);
  });

  it('a full disk on the database side: the batch is not archived and has no receipt; after space is freed the retry completes', { skip: process.getuid?.() !== 0 ? 'needs root to mount a small file system for the tablespace' : false }, () => {
    const inbox = dirs.path('inbox-full');
    const field = laptopBatches('ra-pf3', 3, 12, inbox);
    const c = central('central-pf3');
    const db = new URL(c.settings.database).pathname.slice(1);
    // incoming_transaction on a 320 kB file system of its own: PostgreSQL runs out of space while ingesting.
    const small = mkdtempSync(path.join(os.tmpdir(), 'edc-pg-small-')); // outside the test's 0700 folder: the postgres user must reach it
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=320k', 'tmpfs', small]);
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      chownSync(small, uid, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
      pg.psql('postgres', `CREATE TABLESPACE small LOCATION '${small}'`);
      pg.psql(db, 'ALTER TABLE incoming_transaction SET TABLESPACE small');
      let failure: unknown;
      try {
        importBatches(c, inbox);
      } catch (e) {
        failure = classifyError(e);
      }
      assert.ok(isEdcError(failure, 'DISK_FULL'), `DISK_FULL, got ${String(failure)}`);
      const left = dataFiles(inbox).length;
      assert.ok(left >= 1, 'the batch that did not fit is still in the folder');
      assert.equal(receipts(inbox).length, 3 - left, 'no receipt for what was not imported');
      execFileSync('mount', ['-o', 'remount,size=64m', small]); // space freed
      const r = importBatches(c, inbox);
      assert.equal(r.imported.length, left);
      assert.equal(receipts(inbox).length, 3);
      assert.equal(incomingCount(c), outgoingCount(field));
      assert.deepEqual(snapshot(c), snapshot(field));
    } finally {
      try {
        pg.psql(db, 'ALTER TABLE incoming_transaction SET TABLESPACE pg_default');
        pg.psql('postgres', 'DROP TABLESPACE small');
      } catch { /* the cluster goes with the test */ }
      execFileSync('umount', ['-l', small]);
      rmSync(small, { recursive: true, force: true });
    }
  });
});
