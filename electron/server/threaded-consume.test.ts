/**
 * A server whose store is in PostgreSQL consumes in a worker thread of its own (issue 12, deliverable 3): while a
 * large push is consumed, the thread that answers requests stays free. Real PostgreSQL 15, real HTTP on loopback.
 * Timings are printed for the record, never asserted; what is asserted is that the health answers kept coming while
 * the site still had work pending, that the consuming ran on its own connection, and that everything applied once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import path from 'node:path';
import pg_ from 'pg';
import { KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { seed } from '../core/seed.ts';
import { Store } from '../core/store.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { Consumer } from '../core/consumer.ts';
import { exportBatches } from '../files/export.ts';
import { createBackend } from '../app/backend.ts';
import { callsAs } from '../app/testing.ts';
import { startPostgres, type PgCluster } from '../core/testing/postgres.ts';
import { pairWithSite } from '../core/testing/processes.ts';
import { push } from '../sync/push.ts';
import { ThreadedConsumer } from './background.ts';
import { startSiteServer } from './site-server.ts';

describe('a server on PostgreSQL consumes off its request thread', () => {
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

  it('health answers keep coming while a large push is consumed; everything applies once', async () => {
    const url = pg.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const site = dirs.track(Store.init(dirs.path('site-t'), 'site', 'site-t', { database: url, hostname: 'site-t.test' }));
    writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), dirs.keys);
    const server = await startSiteServer(site, '127.0.0.1', 0);
    const cleanups: (() => Promise<void>)[] = [];
    try {
      assert.ok(server.background instanceof ThreadedConsumer, 'a PostgreSQL store consumes in its own thread');
      const field = dirs.store('field', 'ra-t1');
      seed(field, 300, { seed: 3 });
      const total = (field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;
      await pairWithSite(field, site.dir, server.url);
      // The test reads the database on its own asynchronous connection, so it never blocks the thread it measures.
      const watcher = new pg_.Client({ connectionString: url });
      await watcher.connect();
      cleanups.push(() => watcher.end());
      const one = async (sql: string) => Number(Object.values((await watcher.query(sql)).rows[0] as Record<string, unknown>)[0]);
      const pending = () => one('SELECT count(*) FROM incoming_transaction WHERE is_consumed = 0');
      const consumers = () => one("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'edc-sync'");
      await push(field);
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      let answeredWhilePending = 0;
      let connections = 0;
      let slowest = 0;
      for (let i = 0; i < 2000 && (await pending()) > 0; i++) {
        const t = performance.now();
        const res = await fetch(`${server.url}/api/v1/health`);
        assert.equal(res.status, 200);
        await res.json();
        slowest = Math.max(slowest, performance.now() - t);
        connections = Math.max(connections, await consumers());
        if ((await pending()) > 0) answeredWhilePending++;
      }
      await server.background!.idle();
      loop.disable();
      console.log(`# ${total} transactions consumed in the worker thread; health answered ${answeredWhilePending} times meanwhile, slowest ${slowest.toFixed(1)} ms; event loop delay max ${(loop.max / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`);
      assert.ok(answeredWhilePending > 0, 'health was answered while the site still had transactions to apply');
      assert.ok(connections >= 2, 'the consumer has its own connection beside the request thread\'s');
      assert.equal(await pending(), 0);
      assert.equal(Number(pg.psql(db, 'SELECT count(*) FROM incoming_transaction WHERE is_consumed = 1')), total);
      assert.deepEqual(snapshot(site), snapshot(field));
    } finally {
      await server.close();
      for (const c of cleanups.splice(0)) await c();
    }
  });

  it('"Import arrived files" on a web server on PostgreSQL runs in a thread of its own; everything applies once', async () => {
    const url = pg.createDatabase();
    const central = dirs.track(Store.init(dirs.path('central-t'), 'central', 'central-t', { database: url, hostname: 'central-t.test' }));
    writeKeySetFile(path.join(central.keyDir, KEYSET_FILE), dirs.keys);
    central.reloadKeys();
    // A site's day on a USB stick, in central's incoming folder.
    const siteStore = dirs.store('site', 'site-t2');
    const field = dirs.store('field', 'ra-t2');
    pairAt(siteStore, field);
    seed(field, 300, { seed: 5 });
    new Consumer(siteStore).ingest(outgoingWire(field), 'copy');
    new Consumer(siteStore).consume();
    const incoming = path.join(central.dir, central.settings.importDir);
    exportBatches(siteStore, incoming);
    const total = (field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;

    const events: { op: string; done: number; total: number }[] = [];
    const backend = createBackend({ dataDir: central.dir, host: 'web', emit: (e) => { if (e.type === 'progress') events.push(e); }, store: central });
    const watcher = new pg_.Client({ connectionString: url });
    await watcher.connect();
    try {
      const connections = async () => Number((await watcher.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'edc-sync' AND datname = current_database()")).rows[0].n);
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      let ticks = 0;
      let most = 0;
      let done = false;
      const importing = callsAs(backend, { username: 'dm', role: 'data-manager' }).call('files.import', {}).finally(() => { done = true; });
      while (!done) {
        most = Math.max(most, await connections());
        await new Promise((r) => setTimeout(r, 10));
        ticks++;
      }
      const r = await importing;
      loop.disable();
      console.log(`# ${total} transactions imported in the import thread; the request thread turned ${ticks} times meanwhile; event loop delay max ${(loop.max / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`);
      assert.deepEqual([r.imported, r.transactions, r.quarantined], [1, total, 0]);
      assert.ok(most >= 2, 'the import had a connection of its own beside the request thread\'s');
      assert.ok(events.some((e) => e.op === 'files.import'), 'progress reached the screen');
      assert.equal(Number(pg.psql(new URL(url).pathname.slice(1), 'SELECT count(*) FROM incoming_transaction WHERE is_consumed = 1')), total);
      assert.deepEqual(snapshot(central), snapshot(field));
      // Run again: nothing new arrived, nothing is imported twice.
      const again = await callsAs(backend, { username: 'dm', role: 'data-manager' }).call('files.import', {});
      assert.equal(again.imported, 0);
    } finally {
      await watcher.end();
      await backend.close();
    }
  });
});
