/** Lists with a count and a pager: the file batches of File transfer, newest first, a page at a time. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportBatches } from '../files/export.ts';
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
});
