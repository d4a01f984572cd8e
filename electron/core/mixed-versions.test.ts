/**
 * A mixed fleet: laptops on this version (schema 2: oxygen saturation on vital signs) beside a site and a central
 * still running the schema-1 release, which is the frozen command line in testing/golden/v1/app (made from the
 * schema-1 code, never rebuilt). The older site's store is made and served by that release only, so it holds exactly
 * what the schema-1 migrations made.
 *
 * - Over REST: the schema-2 laptop learns at pre-flight that the site runs schema 1, keeps its changes pending with a
 *   plain reason and marks nothing delivered; once the site is upgraded (this version opens the same data folder and
 *   migrates it) the same push applies everything.
 * - Over files (no pre-flight): a schema-1 central that imports a schema-2 batch keeps every change, says why they
 *   wait, and applies them after its upgrade without anyone asking (no retry, no re-import).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { statusSchema } from '../../shared/status.ts';
import { Consumer } from './consumer.ts';
import { KEYSET_FILE, writeKeySetFile } from './crypto/keyset.ts';
import { SCHEMA_VERSION } from './domain/registry.ts';
import { seed } from './seed.ts';
import { Store } from './store.ts';
import { Study } from './domain/study.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from './testing/fixtures.ts';
import { spawnCli, startServer, waitForStore, type Proc, type ServerProc } from './testing/processes.ts';
import { exportBatches } from '../files/export.ts';
import { pair } from '../sync/server-link.ts';
import { push } from '../sync/push.ts';

const V1_APP = fileURLToPath(new URL('./testing/golden/v1/app/run.mjs', import.meta.url));

/** The schema-1 release's command line, run to its end. */
async function v1(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, {}, V1_APP);
  const code = await p.exited;
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}

async function v1Status(dir: string) {
  const r = await v1(['--data', dir, 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return statusSchema.parse(JSON.parse(r.stdout));
}

async function v1Init(dirs: TestDirs, role: 'site' | 'central', id: string): Promise<string> {
  const dir = dirs.path(id);
  const r = await v1(['--data', dir, 'init', '--role', role, '--device-id', id]);
  assert.equal(r.code, 0, r.stderr);
  writeKeySetFile(path.join(dir, 'keys', KEYSET_FILE), dirs.keys);
  return dir;
}

const ra = { user: 'ra.test' };

describe('a mixed fleet: schema-2 laptops beside a schema-1 site and central', () => {
  let dirs: TestDirs;
  before(() => {
    dirs = new TestDirs();
    assert.equal(SCHEMA_VERSION, 2, 'these tests are about the step from schema 1 to 2');
  });
  after(() => dirs.cleanup());

  it('over REST: held at pre-flight with the reason, nothing marked delivered; applied once the site is upgraded', async () => {
    const siteDir = await v1Init(dirs, 'site', 'site-v1');
    let server: Proc | ServerProc = spawnCli(['--data', siteDir, 'server', '--host', '127.0.0.1', '--port', '0', '--json'], {}, V1_APP);
    const url = (JSON.parse(await server.waitFor(/^\{"url":/)) as { url: string }).url;
    const laptop = dirs.store('field', 'ra-07');
    try {
      const code = await v1(['--data', siteDir, 'pairing-code', '--device-id', 'ra-07', '--role', 'field', '--json']);
      assert.equal(code.code, 0, code.stderr);
      await pair(laptop, url, (JSON.parse(code.stdout) as { code: string }).code);
      seed(laptop, 3);
      const study = new Study(laptop);
      const visitId = String((laptop.sql.prepare('SELECT id FROM visit ORDER BY id LIMIT 1').get() as { id: string }).id);
      const vitalsId = String((laptop.sql.prepare('SELECT id FROM vital_signs WHERE visit_id = ?').get(visitId) as { id: string }).id);
      study.write.update('edc.vital_signs', vitalsId, { oxygenSaturation: 91 }, ra);
      const total = (laptop.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;

      const held = await push(laptop);
      assert.equal(held.sent, 0);
      assert.deepEqual(held.held.map((h) => [h.producer, h.count]), [['ra-07', total]]);
      assert.equal(held.held[0]!.reason, 'ra-07 writes schema 2; site-v1 runs schema 1: upgrade site-v1');
      assert.equal((laptop.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0').get() as { n: number }).n, total, 'nothing marked delivered');
      const atOld = await v1Status(siteDir);
      assert.equal(atOld.incoming.total, 0, 'the older site was sent nothing it cannot read');

      // The upgrade: the site's data folder opened by this version (migrated at start), the same laptop pushes again.
      await server.kill();
      server = await startServer(siteDir, Number(new URL(url).port)); // the address the laptop was paired with
      const sent = await push(laptop);
      assert.deepEqual([sent.sent, sent.held.length], [total, 0]);
      const status = await waitForStore(siteDir, (s) => s.incoming.consumed === total);
      assert.deepEqual([status.incoming.error, status.incoming.conflicts], [0, 0]);
      const site = dirs.track(Store.open(siteDir));
      assert.deepEqual(snapshot(site), snapshot(laptop));
      assert.equal((site.sql.prepare('SELECT oxygen_saturation FROM vital_signs WHERE id = ?').get(vitalsId) as { oxygen_saturation: number }).oxygen_saturation, 91);
    } finally {
      await server.kill();
    }
  });

  it('over files: a schema-1 central keeps a schema-2 batch waiting with the reason and applies it after its upgrade, unasked', async () => {
    // A site on this version with a laptop's day consumed, and its batch file for central.
    const laptop = dirs.store('field', 'ra-08');
    const site = dirs.store('site', 'site-02');
    pairAt(site, laptop);
    seed(laptop, 2);
    new Consumer(site).ingest(outgoingWire(laptop), 'copy');
    assert.equal(new Consumer(site).consume().errors, 0);
    const usb = dirs.path('usb-v1');
    assert.equal(exportBatches(site, usb).batches.length, 1);
    const total = (laptop.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;

    const centralDir = await v1Init(dirs, 'central', 'central-v1');
    const imported = await v1(['--data', centralDir, 'import', '--dir', usb, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const waiting = await v1Status(centralDir);
    assert.equal(waiting.incoming.total, total, 'every change is kept');
    assert.equal(waiting.incoming.consumed, 0);
    assert.deepEqual(waiting.incoming.producerWaits.map((w) => w.kind === 'schema' ? [w.producer, w.count, w.schemaVersion, w.here] : [w.kind]), [['ra-08', total, 2, 1]]);

    // The upgrade: central started on this version. Nobody retries or imports again.
    const server = await startServer(centralDir);
    try {
      const status = await waitForStore(centralDir, (s) => s.incoming.consumed === total);
      assert.deepEqual([status.incoming.error, status.incoming.conflicts, status.incoming.producerWaits], [0, 0, []]);
    } finally {
      await server.kill();
    }
    const central = dirs.track(Store.open(centralDir));
    assert.deepEqual(snapshot(central), snapshot(laptop));
  });
});
