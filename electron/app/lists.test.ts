/** Lists with a count and a pager: the file batches of File transfer and the files import set aside, newest first, a page at a time. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_SUFFIX } from '../../shared/files.ts';
import { exportBatches, resolveDir } from '../files/export.ts';
import { seed } from '../core/seed.ts';
import { TestDirs } from '../core/testing/fixtures.ts';
import { createBackend } from './backend.ts';
import { callsAs } from './testing.ts';

describe('paged lists', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('files.overview: three written batches, two a page, newest first, with the total', async () => {
    const field = dirs.store('field', 'ra-l1');
    const out = dirs.path('out');
    for (const n of [1, 2, 3]) {
      seed(field, 1, { seed: n });
      exportBatches(field, out);
    }
    const api = callsAs(createBackend({ dataDir: field.dir, host: 'desktop', emit: () => {}, store: field }), { username: 'ra', role: null });
    const p0 = await api.call('files.overview', { pageSize: 2 });
    const p1 = await api.call('files.overview', { pageSize: 2, page: 1 });
    assert.deepEqual([p0.totalBatches, p0.batches.map((b) => b.batchSeq), p1.batches.map((b) => b.batchSeq)], [3, [3, 2], [1]]);
    assert.equal((await api.call('files.overview', {})).batches.length, 3);
    assert.equal(await api.fail('files.overview', { pageSize: 0 }), 'INPUT_INVALID');
  });

  it('files.setAside: three files that failed a check, two a page, newest first, each with its reason', async () => {
    const site = dirs.store('site', 'site-l2');
    const api = callsAs(createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site }), { username: 'dm', role: 'data-manager' });
    assert.deepEqual(await api.call('files.setAside', {}), { rows: [], total: 0 });
    const incoming = path.join(resolveDir(site, 'transactions'), 'incoming');
    mkdirSync(incoming, { recursive: true });
    for (const n of [1, 2, 3]) {
      const name = `ra-09_${n}.jsonl.gz`;
      writeFileSync(path.join(incoming, name), 'not a batch');
      writeFileSync(path.join(incoming, name + MANIFEST_SUFFIX), 'not JSON either');
      assert.equal((await api.call('files.import', {})).quarantined, 1);
    }
    const p0 = await api.call('files.setAside', { pageSize: 2 });
    const p1 = await api.call('files.setAside', { pageSize: 2, page: 1 });
    assert.equal(p0.total, 3);
    assert.deepEqual([p0.rows.map((r) => r.fileName), p1.rows.map((r) => r.fileName)], [['ra-09_3.jsonl.gz', 'ra-09_2.jsonl.gz'], ['ra-09_1.jsonl.gz']]);
    assert.equal(p1.rows[0]!.reason, 'the manifest is not JSON');
    assert.equal(await api.fail('files.setAside', { pageSize: 101 }), 'INPUT_INVALID');
    const lab = callsAs(createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site }), { username: 'lab', role: 'lab-assistant' });
    assert.equal((await lab.call('files.setAside', {})).total, 3, 'anyone who reviews what arrived sees it');
  });
});
