/**
 * File transfer without the network part: export → (USB or a folder) → import, receipts back to the sender,
 * batches out of order held until the gap fills, bad files quarantined with reasons, crash-safe export.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { MANIFEST_SUFFIX } from '../../shared/files.ts';
import { Consumer } from '../core/consumer.ts';
import { copyFrom } from '../core/copy.ts';
import { KeySet } from '../core/crypto/keyset.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { exportBatches } from './export.ts';
import { importBatches } from './import.ts';
import { applyReceipts, readReceiptsDir } from './receipts.ts';
import { pinPeerKey } from './signing.ts';

function batchFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).sort();
}

/** Moves one batch (data + manifest) from one folder to another. */
function moveBatch(from: string, to: string, name: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of [name, name + MANIFEST_SUFFIX]) renameSync(path.join(from, f), path.join(to, f));
}

describe('file transfer: export, import, receipts', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('USB path: export --out DIR, import --dir DIR on another store; receipts clear the sender', async () => {
    const field = dirs.store('field', 'ra-u1');
    seed(field, 25, { seed: 1 });
    const usb = dirs.path('usb');
    const out = exportBatches(field, usb);
    assert.equal(out.batches.length, 1);
    assert.equal(exportBatches(field, usb).batches.length, 0, 'nothing pending: no file, not an error');
    const site = dirs.store('site', 'site-u1');
    pairAt(site, field);
    const r = importBatches(site, usb);
    assert.equal(r.imported.length, 1);
    assert.deepEqual(snapshot(site), snapshot(field));
    assert.deepEqual(batchFiles(usb), [], 'imported files are archived');
    assert.equal(readStatus(field).outgoing.pendingServer, readStatus(field).outgoing.total, 'export alone delivers nothing');
    // A USB stick proves nothing by itself: the laptop believes receipts signed by the site's key, registered here.
    assert.equal(applyReceipts(field, await readReceiptsDir(usb), { via: 'usb' }).refused.length, 1, 'the site\'s key is not known to the laptop yet');
    assert.equal(readStatus(field).outgoing.pendingServer, readStatus(field).outgoing.total);
    pinPeerKey(field, site.deviceId, site.signingKey.publicKey, 'registered');
    const ack = applyReceipts(field, await readReceiptsDir(usb), { via: 'usb' });
    assert.equal(ack.acknowledged.length, 1);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
    assert.equal(applyReceipts(field, await readReceiptsDir(usb), { via: 'usb' }).acknowledged.length, 0, 'a receipt counts once');
  });

  it('site → export → central import + consume: records equal; receipts clear the site', async () => {
    const fields = ['ra-s1', 'ra-s2'].map((id, i) => {
      const f = dirs.store('field', id);
      seed(f, 15, { seed: 10 + i });
      return f;
    });
    const site = dirs.store('site', 'site-s1');
    pairAt(site, ...fields);
    for (const f of fields) copyFrom(site, f.dir);
    new Consumer(site).consume();
    const central = dirs.store('central', 'central-1');
    const outbox = dirs.path('site-outbox');
    const exported = exportBatches(site, outbox);
    assert.ok(exported.batches.length >= 1);
    const r = importBatches(central, outbox);
    assert.equal(r.quarantined.length, 0);
    assert.deepEqual(snapshot(central), snapshot(site), 'central holds what the site holds');
    const forwardedBefore = (site.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE forwarded_at IS NULL').get() as { n: number }).n;
    assert.ok(forwardedBefore > 0);
    pinPeerKey(site, central.deviceId, central.signingKey.publicKey, 'registered');
    assert.equal(applyReceipts(site, await readReceiptsDir(outbox), { via: 'usb' }).refused.length, 0);
    assert.equal((site.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE forwarded_at IS NULL').get() as { n: number }).n, 0);
    const vias = central.sql.prepare('SELECT DISTINCT producer FROM incoming_transaction ORDER BY producer').all();
    assert.deepEqual(vias, [{ producer: 'ra-s1' }, { producer: 'ra-s2' }], 'forwarded unchanged: original producers');
  });

  it('batches arriving out of order are held, then applied when the gap fills', () => {
    const field = dirs.store('field', 'ra-o1');
    const staging = dirs.path('staging');
    for (let i = 0; i < 3; i++) {
      seed(field, 5, { seed: 20 + i });
      exportBatches(field, staging);
    }
    const [b1, b2, b3] = batchFiles(staging);
    const incoming = dirs.path('incoming-o');
    const site = dirs.store('site', 'site-o1');
    pairAt(site, field);
    moveBatch(staging, incoming, b3!);
    let r = importBatches(site, incoming);
    assert.equal(r.imported.length, 0);
    assert.deepEqual(r.gaps, [{ producer: 'ra-o1', from: 1, to: 2 }]);
    moveBatch(staging, incoming, b1!);
    r = importBatches(site, incoming);
    assert.deepEqual(r.imported.map((b) => b.fileName), [b1]);
    assert.deepEqual(r.gaps, [{ producer: 'ra-o1', from: 2, to: 2 }]);
    moveBatch(staging, incoming, b2!);
    r = importBatches(site, incoming);
    assert.deepEqual(r.imported.map((b) => b.fileName), [b2, b3]);
    assert.deepEqual(r.gaps, []);
    assert.deepEqual(snapshot(site), snapshot(field));
  });

  it('corrupt, truncated, foreign, unreadable-manifest and unknown-producer files are quarantined with reasons; a duplicate is skipped; the rest imports', () => {
    const good = dirs.store('field', 'ra-q1');
    const other = dirs.store('field', 'ra-q2');
    const foreign = dirs.store('field', 'ra-q3', { keys: KeySet.generate() });
    const incoming = dirs.path('incoming-q');
    for (const s of [good, other, foreign]) seed(s, 5, { seed: 30 });
    exportBatches(good, incoming);
    exportBatches(foreign, incoming);
    const dupDir = dirs.path('dup-q');
    cpSync(incoming, dupDir, { recursive: true }); // the same files, to arrive a second time
    const otherOut = dirs.path('other-out');
    exportBatches(other, otherOut);
    seed(other, 5, { seed: 31 });
    exportBatches(other, otherOut);
    const [o1, o2] = batchFiles(otherOut);
    const p1 = path.join(otherOut, o1!);
    const bytes = readFileSync(p1);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff; // batch 1: one byte flipped
    writeFileSync(p1, bytes);
    for (const f of readdirSync(otherOut)) cpSync(path.join(otherOut, f), path.join(incoming, f));
    const cut = dirs.store('field', 'ra-q5');
    seed(cut, 4, { seed: 33 });
    const cutOut = dirs.path('cut-out');
    const [c1] = exportBatches(cut, cutOut).batches;
    truncateSync(path.join(cutOut, c1!.fileName), 100); // cut short in transfer
    for (const f of readdirSync(cutOut)) cpSync(path.join(cutOut, f), path.join(incoming, f));
    writeFileSync(path.join(incoming, 'garbage.jsonl.gz.manifest.json'), '{oops');
    const site = dirs.store('site', 'site-q1');
    pairAt(site, good, other, foreign, cut); // paired: each file is quarantined for what it is, not for an unknown producer
    const r = importBatches(site, incoming);
    const reasonOf = (prefix: string) => r.quarantined.find((q) => q.fileName.startsWith(prefix))?.reason ?? '';
    assert.match(reasonOf('garbage'), /not JSON/);
    assert.match(reasonOf('ra-q3'), /^foreign: /);
    assert.match(reasonOf(o1!), /sha256 does not match/);
    assert.match(reasonOf('ra-q5'), /truncated/);
    assert.equal(r.quarantined.length, 4);
    assert.deepEqual(r.gaps, [{ producer: 'ra-q2', from: 1, to: 1 }], 'batch 2 of ra-q2 waits for a good batch 1');
    assert.ok(existsSync(path.join(incoming, o2!)), 'and stays where it is');
    assert.deepEqual(r.imported.map((b) => b.fileName.split('_')[0]), ['ra-q1'], 'the good producer is not affected');
    assert.equal(readStatus(site).records['edc.subject'], 5);
    assert.equal(readStatus(site).incoming.quarantinedFiles, 4);
    assert.ok(existsSync(path.join(site.dir, 'transactions', 'quarantine', `${o1}.reason.txt`)));
    assert.deepEqual(readdirSync(incoming).filter((f) => f !== 'receipts').sort(), [o2!, o2! + MANIFEST_SUFFIX].sort(), 'every other file dealt with');

    // The same batch arriving again: skipped and said so; nothing else changes.
    const dup = importBatches(site, dupDir);
    assert.deepEqual(dup.skipped.map((x) => x.reason), ['already imported']);
    assert.equal(dup.imported.length, 0);
    assert.equal(readStatus(site).records['edc.subject'], 5);

    // Unknown producer: a site that lists its known producers refuses others.
    const strict = dirs.store('site', 'site-q2');
    strict.saveSettings({ ...strict.settings, knownProducers: ['ra-q9'] });
    const fresh = dirs.store('field', 'ra-q4');
    seed(fresh, 3, { seed: 32 });
    const incoming2 = dirs.path('incoming-q2');
    exportBatches(fresh, incoming2);
    assert.match(importBatches(strict, incoming2).quarantined[0]!.reason, /unknown producer ra-q4/);
  });

  it('a batch allocated but never written (a crash) is written again, byte for byte; no half file under a final name', () => {
    const field = dirs.store('field', 'ra-c1');
    seed(field, 5, { seed: 40 });
    const out = dirs.path('crash-out');
    const first = exportBatches(field, out).batches[0]!;
    const original = readFileSync(path.join(out, first.fileName));
    rmSync(out, { recursive: true });
    field.sql.prepare("UPDATE file_batch SET status = 'pending'").run();
    const again = exportBatches(field, out);
    assert.deepEqual(again.batches.map((b) => b.fileName), [first.fileName]);
    assert.deepEqual(readFileSync(path.join(out, first.fileName)), original);
    assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('.')), [], 'no temporary files left');
  });

  it('an unwritable folder is a clear error and marks nothing', () => {
    const field = dirs.store('field', 'ra-w1');
    seed(field, 3, { seed: 41 });
    writeFileSync(dirs.path('a-file'), 'x');
    assert.throws(() => exportBatches(field, path.join(dirs.path('a-file'), 'sub')), (e) => isEdcError(e, 'IO_FAILED'));
    assert.equal((field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction WHERE batch_id IS NOT NULL').get() as { n: number }).n, 0);
    assert.throws(() => importBatches(dirs.store('site', 'site-w1'), dirs.path('nope')), (e) => isEdcError(e, 'IO_FAILED'));
    assert.throws(() => exportBatches(dirs.store('central', 'central-w1')), (e) => isEdcError(e, 'ROLE_NOT_ALLOWED'));
    assert.throws(() => importBatches(field, dirs.path('nope')), (e) => isEdcError(e, 'ROLE_NOT_ALLOWED'));
  });
});
