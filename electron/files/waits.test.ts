/**
 * Every wait of file import is visible (issue 9, deliverable 6, the file part): a missing batch number per exporter
 * and files left without their other half appear in `status` (incoming.batchGaps, incoming.unmatchedFiles) with
 * since when, a manifest whose data file has not arrived is left alone (not quarantined), and all of it clears when
 * the missing files arrive. Real stores and files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BATCH_SUFFIX, MANIFEST_SUFFIX } from '../../shared/files.ts';
import { Consumer } from '../core/consumer.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { exportBatches } from './export.ts';
import { importBatches } from './import.ts';

describe('file import: every wait is named', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a missing batch is listed per exporter with since when, later ones wait, and the list clears when it arrives', () => {
    const field = dirs.store('field', 'ra-g1');
    const site = dirs.store('site', 'site-g1');
    pairAt(site, field);
    const usb = dirs.path('usb-g1');
    const names: string[] = [];
    for (let round = 0; round < 3; round++) {
      const before = outgoingWire(field).length;
      seed(field, 3, { seed: 20 + round });
      new Consumer(site).ingest(outgoingWire(field).slice(before), 'rest');
      new Consumer(site).consume();
      names.push(...exportBatches(site, usb).batches.map((b) => b.fileName));
    }
    // Batch 2 is still on another stick.
    const aside = dirs.path('aside-g1');
    mkdirSync(aside);
    for (const f of [names[1]!, names[1]! + MANIFEST_SUFFIX]) renameSync(path.join(usb, f), path.join(aside, f));
    const central = dirs.store('central', 'central-g1');
    const r = importBatches(central, usb);
    assert.deepEqual([r.imported.length, r.gaps], [1, [{ producer: 'site-g1', from: 2, to: 2 }]]);
    const gaps = readStatus(central).incoming.batchGaps;
    assert.deepEqual(gaps.map(({ since: _s, ...g }) => g), [{ exporter: 'site-g1', from: 2, to: 2 }]);
    const since = gaps[0]!.since;
    assert.ok(Date.now() - Date.parse(since) < 60_000);
    importBatches(central, usb);
    assert.equal(readStatus(central).incoming.batchGaps[0]!.since, since, 'missing since the first time it was seen missing');
    for (const f of readdirSync(aside)) renameSync(path.join(aside, f), path.join(usb, f));
    assert.equal(importBatches(central, usb).imported.length, 2);
    assert.deepEqual(readStatus(central).incoming.batchGaps, []);
    assert.deepEqual(snapshot(central), snapshot(site));
  });

  it('files without their other half: reported once older than unmatchedFileMinutes, never quarantined, cleared when whole', () => {
    const field = dirs.store('field', 'ra-g2');
    seed(field, 3, { seed: 30 });
    const usb = dirs.path('usb-g2');
    const [b] = exportBatches(field, usb).batches;
    const site = dirs.store('site', 'site-g2');
    pairAt(site, field);
    // The manifest came, the data file did not (copied in another order, or lost).
    const aside = dirs.path('aside-g2');
    mkdirSync(aside);
    renameSync(path.join(usb, b!.fileName), path.join(aside, b!.fileName));
    // And a stray data file whose manifest never came, and one that is still being copied.
    const stray = 'site-zz_000001_0190b7a8-0000-7000-8000-000000000000' + BATCH_SUFFIX;
    writeFileSync(path.join(usb, stray), 'x');
    const fresh = 'site-zz_000002_0190b7a8-0000-7000-8000-000000000001' + BATCH_SUFFIX;
    writeFileSync(path.join(usb, fresh), 'y');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const f of [stray, b!.fileName + MANIFEST_SUFFIX]) utimesSync(path.join(usb, f), twoHoursAgo, twoHoursAgo);

    const r = importBatches(site, usb);
    assert.deepEqual([r.imported.length, r.quarantined.length], [0, 0], 'nothing set aside: it may still arrive');
    const st = readStatus(site).incoming;
    assert.equal(st.quarantinedFiles, 0);
    assert.deepEqual(st.unmatchedFiles.map((u) => [u.fileName, u.kind]), [
      [b!.fileName + MANIFEST_SUFFIX, 'manifest-without-data'],
      [stray, 'data-without-manifest'],
    ], 'the fresh one is not reported yet');
    assert.ok(Math.abs(Date.parse(st.unmatchedFiles[0]!.since) - twoHoursAgo.getTime()) < 1000, 'since: when the file arrived (its mtime)');

    renameSync(path.join(aside, b!.fileName), path.join(usb, b!.fileName));
    assert.equal(importBatches(site, usb).imported.length, 1);
    assert.deepEqual(readStatus(site).incoming.unmatchedFiles.map((u) => u.fileName), [stray]);
  });
});
