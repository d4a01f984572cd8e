/**
 * A site takes data only from devices paired with it, whatever carries the data (issue 10, deliverable 3): a REST
 * push (identity.test), and here a file batch on a USB stick, a middleman's stick, and a copy of a laptop's store.
 * An unpaired producer is refused with a reason naming it, nothing of it is stored, and its sequence numbers stay
 * free, so the real device, once paired, delivers its own transactions under them. Other producers' transactions in
 * the same hand-over are not affected.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportBatches, resendBatch } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { revokeDevice } from '../server/auth.ts';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { KEYSET_FILE, writeKeySetFile } from './crypto/keyset.ts';
import { seed } from './seed.ts';
import { readStatus } from './status.ts';
import { Store } from './store.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from './testing/fixtures.ts';

const count = (s: Store, producer: string) => (s.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE producer = ?').get(producer) as { n: number }).n;
const cursor = (s: Store, producer: string) => s.sql.prepare('SELECT applied_seq FROM producer_cursor WHERE producer = ?').get(producer);
const receiptsIn = (dir: string) => (existsSync(path.join(dir, 'receipts')) ? readdirSync(path.join(dir, 'receipts')) : []);

describe('a site refuses producers it never paired, on every channel', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  /** Another machine calling itself `deviceId`, with the study's keys but its own device key. */
  const impostor = (deviceId: string): Store => {
    const s = dirs.track(Store.init(dirs.path(`impostor-${deviceId}`), 'field', deviceId, { hostname: 'impostor.test' }));
    writeKeySetFile(path.join(s.keyDir, KEYSET_FILE), dirs.keys);
    return s;
  };

  it('file import: a stick from an unpaired laptop is quarantined with the reason, nothing stored, no receipt; once paired, its batch imports under the same numbers', () => {
    const laptop = dirs.store('field', 'ra-f1');
    seed(laptop, 4, { seed: 1 });
    const site = dirs.store('site', 'site-f1');
    const usb = dirs.path('usb-f1');
    const [b] = exportBatches(laptop, usb).batches;
    const refused = importBatches(site, usb);
    assert.deepEqual([refused.imported.length, refused.quarantined.length], [0, 1]);
    assert.match(refused.quarantined[0]!.reason, /^\d+ transaction\(s\) of ra-f1 refused: ra-f1 is not a device paired with this server; nothing of it stored \(pair ra-f1 with this server first/);
    assert.match(refused.quarantined[0]!.reason, /send the batch again$/);
    assert.equal(count(site, 'ra-f1'), 0, 'nothing stored');
    assert.equal(cursor(site, 'ra-f1'), undefined, 'its sequence untouched: no cursor, no numbers taken');
    assert.deepEqual(receiptsIn(usb), [], 'no receipt: the laptop keeps every transaction pending');
    assert.equal(readStatus(site).incoming.quarantinedFiles, 1);

    // The administrator pairs the laptop; it writes the batch again (byte for byte): imported whole, receipt written.
    pairAt(site, laptop);
    resendBatch(laptop, String(b!.batchSeq), usb);
    const r = importBatches(site, usb);
    assert.deepEqual([r.imported.length, r.quarantined.length, r.imported[0]?.accepted], [1, 0, outgoingWire(laptop).length]);
    assert.deepEqual(snapshot(site), snapshot(laptop));
    assert.equal(receiptsIn(usb).length, 1);
  });

  it('file import: an impostor\'s stick in an unpaired laptop\'s name takes none of its numbers; the real laptop, paired, delivers seq 1 onwards', () => {
    const fake = impostor('ra-f2');
    seed(fake, 2, { seed: 9 });
    const site = dirs.store('site', 'site-f2');
    const usb = dirs.path('usb-f2');
    exportBatches(fake, usb);
    assert.match(importBatches(site, usb).quarantined[0]?.reason ?? '', /ra-f2 is not a device paired with this server/);
    assert.equal(count(site, 'ra-f2'), 0);
    const real = dirs.store('field', 'ra-f2');
    seed(real, 3, { seed: 2 });
    pairAt(site, real);
    const usb2 = dirs.path('usb-f2-real');
    exportBatches(real, usb2);
    const r = importBatches(site, usb2);
    assert.deepEqual([r.imported.length, r.quarantined.length], [1, 0]);
    assert.equal(count(site, 'ra-f2'), outgoingWire(real).length);
    assert.equal((cursor(site, 'ra-f2') as { applied_seq: number }).applied_seq, outgoingWire(real).length, 'every number from 1 is the real laptop\'s');
    assert.deepEqual(snapshot(site), snapshot(real));
    // The impostor's stick again, now that ra-f2 is paired with its own key: refused as forged, nothing changes.
    exportBatches(fake, usb);
    assert.equal(importBatches(site, usb).imported.length, 0);
    assert.equal(count(site, 'ra-f2'), outgoingWire(real).length);
  });

  it('a middleman\'s stick: the paired laptop\'s batch imports, the unpaired laptop\'s is quarantined (later batches wait for it, as for any quarantine), and all of it arrives once that laptop is paired', () => {
    const paired = dirs.store('field', 'ra-m1');
    const unpaired = dirs.store('field', 'ra-m2');
    const later = dirs.store('field', 'ra-m3');
    seed(paired, 3, { seed: 3 });
    seed(unpaired, 3, { seed: 4 });
    seed(later, 3, { seed: 5 });
    const mm = dirs.store('middleman', 'mm-m1');
    for (const l of [paired, unpaired, later]) copyFrom(mm, l.dir); // pulled (a middleman carries what it pulls)
    new Consumer(mm).consume();
    const site = dirs.store('site', 'site-m1');
    pairAt(site, mm, paired, later);
    const usb = dirs.path('usb-m1');
    const batches = exportBatches(mm, usb).batches; // one batch per laptop, in the order ra-m1, ra-m2, ra-m3
    assert.equal(batches.length, 3);
    const r = importBatches(site, usb);
    assert.deepEqual(r.imported.map((b) => b.fileName), [batches[0]!.fileName]);
    assert.equal(r.quarantined.length, 1);
    assert.match(r.quarantined[0]!.reason, /of ra-m2 refused: ra-m2 is not a device paired with this server/);
    assert.deepEqual(r.gaps, [{ producer: 'mm-m1', from: 2, to: 2 }], 'the middleman\'s later batch waits for batch 2');
    assert.equal(count(site, 'ra-m2'), 0, 'nothing of the unpaired laptop stored');
    assert.equal(cursor(site, 'ra-m2'), undefined);
    assert.equal(count(site, 'ra-m1'), outgoingWire(paired).length, 'the paired laptop\'s data is in, and applied');
    assert.equal(readStatus(site).incoming.pending, 0);
    assert.equal(receiptsIn(usb).length, 1, 'a receipt for the imported batch only');

    pairAt(site, unpaired);
    resendBatch(mm, '2', usb);
    const again = importBatches(site, usb);
    assert.deepEqual([again.imported.length, again.quarantined.length, again.gaps.length], [2, 0, 0]);
    for (const l of [paired, unpaired, later]) assert.equal(count(site, l.deviceId), outgoingWire(l).length, l.deviceId);
    assert.deepEqual(snapshot(site), snapshot(mm), 'exactly what the middleman carried');
  });

  it('copy: an unpaired laptop\'s store is refused with the reason, nothing stored, its numbers free; an impostor\'s store never takes them; once paired, the real one copies whole', () => {
    const site = dirs.store('site', 'site-c1');
    const fake = impostor('ra-c1');
    seed(fake, 2, { seed: 7 });
    const r0 = copyFrom(site, fake.dir);
    assert.deepEqual([r0.accepted, r0.duplicates, r0.rejected.length], [0, 0, outgoingWire(fake).length]);
    assert.match(r0.rejected[0]!.reason, /^ra-c1 is not a device paired with this server; nothing of it stored/);
    assert.equal(count(site, 'ra-c1'), 0);
    assert.equal(cursor(site, 'ra-c1'), undefined);

    const real = dirs.store('field', 'ra-c1');
    seed(real, 3, { seed: 8 });
    assert.equal(copyFrom(site, real.dir).accepted, 0, 'the real laptop too, until it is paired');
    pairAt(site, real);
    const r = copyFrom(site, real.dir);
    assert.deepEqual([r.accepted, r.rejected.length], [outgoingWire(real).length, 0]);
    new Consumer(site).consume();
    assert.deepEqual(snapshot(site), snapshot(real));
    // The impostor's store again: now refused as forged (signed with a key that is not ra-c1's), nothing changes.
    const r2 = copyFrom(site, fake.dir);
    assert.equal(r2.accepted, 0);
    assert.match(r2.rejected[0]!.reason, /signature does not verify under ra-c1's device key/);
    assert.equal(count(site, 'ra-c1'), outgoingWire(real).length);
  });

  it('one hand-over naming a paired and an unpaired producer: the paired one\'s transactions are taken, only the unpaired one\'s refused', () => {
    const a = dirs.store('field', 'ra-x1');
    const b = dirs.store('field', 'ra-x2');
    seed(a, 2, { seed: 11 });
    seed(b, 2, { seed: 12 });
    const site = dirs.store('site', 'site-x1');
    pairAt(site, a);
    const wire = [...outgoingWire(a), ...outgoingWire(b)];
    for (const via of ['copy', 'file'] as const) {
      const r = new Consumer(site).ingest(wire, via);
      assert.equal(r.rejected.length, outgoingWire(b).length, via);
      for (const x of r.rejected) assert.match(x.reason, /^ra-x2 is not a device paired with this server/);
      assert.equal(r.accepted.length + r.duplicates.length, outgoingWire(a).length, via);
    }
    assert.equal(count(site, 'ra-x2'), 0);
    assert.equal(cursor(site, 'ra-x2'), undefined);
    new Consumer(site).consume();
    assert.deepEqual(snapshot(site), snapshot(a));
  });

  it('a revoked laptop\'s stick and store are refused too', () => {
    const laptop = dirs.store('field', 'ra-r1');
    seed(laptop, 2, { seed: 13 });
    const site = dirs.store('site', 'site-r1');
    pairAt(site, laptop);
    revokeDevice(site, 'ra-r1');
    assert.match(copyFrom(site, laptop.dir).rejected[0]?.reason ?? '', /ra-r1 is revoked/);
    const usb = dirs.path('usb-r1');
    exportBatches(laptop, usb);
    assert.equal(importBatches(site, usb).imported.length, 0);
    assert.equal(count(site, 'ra-r1'), 0);
  });
});
