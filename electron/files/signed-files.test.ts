/**
 * Signed transaction files (issue 10, deliverable 4): manifests signed by the exporter, receipts by the receiver.
 * A forged manifest (another device using the site's name, with the study keys) is quarantined without touching the
 * real site's batches; an altered or stripped manifest likewise; a hand-written or forged receipt on a USB stick
 * marks nothing delivered, and the CLI says so. Real stores, real files, the real CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MANIFEST_SUFFIX, type Receipt } from '../../shared/files.ts';
import { Consumer } from '../core/consumer.ts';
import { KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { BIN } from '../core/testing/processes.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { registerDeviceKey, revokeDevice } from '../server/auth.ts';
import { exportBatches } from './export.ts';
import { importBatches } from './import.ts';
import { applyReceipts, readReceiptsDir } from './receipts.ts';
import { pinnedKey, pinPeerKey, RECEIPT_DOMAIN, signDocument } from './signing.ts';

const manifestsIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(MANIFEST_SUFFIX)).map((f) => path.join(dir, f));
const editJson = (file: string, fn: (v: Record<string, unknown>) => Record<string, unknown>) => writeFileSync(file, JSON.stringify(fn(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)));

describe('signed files: manifests by the exporter, receipts by the receiver', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  /** A site with consumed data from one laptop, ready to export. */
  function siteWith(id: string, subjects: number, seedNo: number): Store {
    const field = dirs.store('field', `ra-${id}`);
    seed(field, subjects, { seed: seedNo });
    const site = dirs.store('site', id);
    pairAt(site, field);
    new Consumer(site).ingest(outgoingWire(field), 'rest');
    new Consumer(site).consume();
    return site;
  }

  it('a forged manifest in the site\'s name is quarantined; the real site\'s batch 1 still imports', () => {
    const site = siteWith('site-x', 4, 1);
    const central = dirs.store('central', 'central-x');
    pinPeerKey(central, 'site-x', site.signingKey.publicKey, 'registered'); // the administrator registered site-x's key
    // Someone with the study keys sets up a device that calls itself site-x and writes its batch 1 first.
    const forger = dirs.track(Store.init(dirs.path('forger'), 'site', 'site-x'));
    writeKeySetFile(path.join(forger.keyDir, KEYSET_FILE), dirs.keys);
    const victim = dirs.store('field', 'ra-victim');
    seed(victim, 2, { seed: 9 });
    pairAt(forger, victim);
    new Consumer(forger).ingest(outgoingWire(victim), 'rest');
    new Consumer(forger).consume();
    const usb = dirs.path('usb-x');
    exportBatches(forger, usb);
    const forged = importBatches(central, usb);
    assert.deepEqual(forged.imported, []);
    assert.equal(forged.quarantined.length, 1);
    assert.match(forged.quarantined[0]!.reason, /signed with a key that is not site-x's \(forged\)/);
    assert.equal((central.sql.prepare('SELECT count(*) AS n FROM incoming_transaction').get() as { n: number }).n, 0, 'nothing of it stored');
    // The real batch 1 arrives: imported, nothing waits for "batch 1".
    exportBatches(site, usb);
    const real = importBatches(central, usb);
    assert.deepEqual([real.imported.length, real.quarantined.length, real.gaps.length], [1, 0, 0]);
    assert.deepEqual(snapshot(central), snapshot(site));
  });

  it('an altered manifest, and a stripped one from a site that signs, are quarantined; an older unsigned exporter is still read', () => {
    const site = siteWith('site-y', 3, 2);
    const central = dirs.store('central', 'central-y');
    const usb = dirs.path('usb-y');
    exportBatches(site, usb);
    const [file] = manifestsIn(usb);
    editJson(file!, (m) => ({ ...m, createdAt: '2020-01-01T00:00:00.000Z' }));
    const altered = importBatches(central, usb);
    assert.match(altered.quarantined[0]?.reason ?? '', /signature does not verify/);
    assert.equal(pinnedKey(central, 'site-y'), null, 'a file that fails pins nothing');
    // The site writes its batch again (export --resend is issue 9's; here the next batch): first signed file pins.
    const more = dirs.store('field', 'ra-y2');
    seed(more, 2, { seed: 3 });
    pairAt(site, more);
    new Consumer(site).ingest(outgoingWire(more), 'rest');
    new Consumer(site).consume();
    const usb2 = dirs.path('usb-y2');
    const second = exportBatches(site, usb2).batches;
    assert.equal(second.length, 1);
    // An older exporter's unsigned manifest from a device whose key nobody knows yet is read (mixed versions).
    const older = dirs.store('central', 'central-y2');
    const old = dirs.path('usb-old');
    const oldSite = siteWith('site-old', 2, 4);
    exportBatches(oldSite, old);
    editJson(manifestsIn(old)[0]!, ({ sig: _s, publicKey: _k, ...m }) => m);
    assert.equal(importBatches(older, old).imported.length, 1, 'unsigned from an unknown exporter: read, as from an older version');
    // Once site-y's key is pinned (its first signed file), a stripped manifest in its name is refused.
    const c2 = dirs.store('central', 'central-y3');
    const usb3 = dirs.path('usb-y3');
    const s3 = siteWith('site-z', 2, 5);
    exportBatches(s3, usb3);
    assert.equal(importBatches(c2, usb3).imported.length, 1);
    assert.equal(pinnedKey(c2, 'site-z')?.how, 'first-file');
    const next = dirs.store('field', 'ra-z2');
    seed(next, 1, { seed: 6 });
    pairAt(s3, next);
    new Consumer(s3).ingest(outgoingWire(next), 'rest');
    new Consumer(s3).consume();
    exportBatches(s3, usb3);
    editJson(manifestsIn(usb3)[0]!, ({ sig: _s, publicKey: _k, ...m }) => m);
    assert.match(importBatches(c2, usb3).quarantined[0]?.reason ?? '', /not signed, but site-z signs what it writes/);
  });

  it('a revoked device\'s files are not believed, and nobody can pin another key under its name', () => {
    const laptop = dirs.store('field', 'ra-rv1');
    seed(laptop, 2, { seed: 12 });
    const site = dirs.store('site', 'site-rv1');
    pairAt(site, laptop);
    revokeDevice(site, 'ra-rv1');
    const usb = dirs.path('usb-rv1');
    exportBatches(laptop, usb);
    assert.match(importBatches(site, usb).quarantined[0]?.reason ?? '', /ra-rv1 is revoked on this device/);
    // A device calling itself ra-rv1, with another key: still not believed, and nothing pinned for it.
    const other = dirs.track(Store.init(dirs.path('other-rv1'), 'field', 'ra-rv1'));
    writeKeySetFile(path.join(other.keyDir, KEYSET_FILE), dirs.keys);
    seed(other, 1, { seed: 13 });
    const usb2 = dirs.path('usb-rv2');
    exportBatches(other, usb2);
    assert.match(importBatches(site, usb2).quarantined[0]?.reason ?? '', /ra-rv1 is revoked on this device/);
    assert.equal(pinnedKey(site, 'ra-rv1'), null);
  });

  it('receipts on a USB stick: hand-written, forged and mismatched ones mark nothing; the real one does; the CLI reports what it marked', async () => {
    const field = dirs.store('field', 'ra-r1');
    seed(field, 3, { seed: 7 });
    const site = dirs.store('site', 'site-r1');
    pairAt(site, field);
    const usb = dirs.path('usb-r1');
    const [b] = exportBatches(field, usb).batches;
    const pending = readStatus(field).outgoing.pendingServer;
    const batchId = b!.fileName.match(/_([0-9a-f-]{36})\.jsonl\.gz$/)![1]!;
    const base: Receipt = {
      format: 'edc-sync-receipt', version: 1, batchId, producer: 'ra-r1', batchSeq: b!.batchSeq, receiver: 'site-r1', count: b!.count,
      sha256: (field.sql.prepare('SELECT sha256 FROM file_batch WHERE batch_id = ?').get(batchId) as { sha256: string }).sha256,
      accepted: b!.count, duplicates: 0, consumed: b!.count, errors: 0, importedAt: new Date().toISOString(),
    };
    pinPeerKey(field, 'site-r1', site.signingKey.publicKey, 'registered');
    const receipts = path.join(usb, 'receipts');
    const write = (r: object) => { execFileSync('mkdir', ['-p', receipts]); writeFileSync(path.join(receipts, `${batchId}.json`), JSON.stringify(r)); };
    // 1. Hand-written, unsigned.
    write(base);
    const cli = (args: string[]) => execFileSync(process.execPath, [BIN, '--data', field.dir, ...args], { encoding: 'utf8', env: { ...process.env, EDC_SYNC_USER: 't' } });
    field.close();
    const out = cli(['receipts', '--dir', usb]);
    assert.match(out, /^0 batch\(es\) acknowledged \(0 transactions marked delivered\)/);
    assert.match(out, /refused the receipt for batch .*: the receipt is not signed, but site-r1 signs what it writes/);
    const f = dirs.track(Store.open(field.dir));
    assert.equal(readStatus(f).outgoing.pendingServer, pending, 'nothing marked delivered');
    // 2. Signed by another device calling itself site-r1.
    const impostor = dirs.track(Store.init(dirs.path('impostor'), 'site', 'site-r1'));
    write(signDocument(impostor, RECEIPT_DOMAIN, base));
    assert.match(applyReceipts(f, await readReceiptsDir(usb), { via: 'usb' }).refused[0]?.reason ?? '', /signed with a key that is not site-r1's/);
    // 3. Signed by the real site, but for more transactions than were sent, or another file.
    write(signDocument(site, RECEIPT_DOMAIN, { ...base, count: base.count + 5 }));
    assert.match(applyReceipts(f, await readReceiptsDir(usb), { via: 'usb' }).refused[0]?.reason ?? '', /says \d+ transactions, the batch sent had/);
    write(signDocument(site, RECEIPT_DOMAIN, { ...base, sha256: 'f'.repeat(64) }));
    assert.match(applyReceipts(f, await readReceiptsDir(usb), { via: 'usb' }).refused[0]?.reason ?? '', /names another file/);
    // 4. A signature copied onto an altered receipt.
    const good = signDocument(site, RECEIPT_DOMAIN, base);
    write({ ...good, errors: 3 });
    assert.match(applyReceipts(f, await readReceiptsDir(usb), { via: 'usb' }).refused[0]?.reason ?? '', /signature does not verify/);
    assert.equal(readStatus(f).outgoing.pendingServer, pending, 'still nothing marked delivered');
    // 5. The real receipt from the site's import.
    importBatches(site, usb);
    const ok = applyReceipts(f, await readReceiptsDir(usb), { via: 'usb' });
    assert.deepEqual([ok.acknowledged.length, ok.refused.length], [1, 0]);
    assert.equal(readStatus(f).outgoing.pendingServer, 0);
  });

  it('central verifies each envelope under its producer\'s key from the site\'s signed device list in the manifest', () => {
    const laptop = dirs.store('field', 'ra-v1');
    seed(laptop, 3, { seed: 11 });
    const site = dirs.store('site', 'site-v1');
    const wire = outgoingWire(laptop);
    // One envelope was altered after the laptop signed it (a valid-looking signature that is not the laptop's), and
    // reached the site before the laptop's key was on record there (paired before device keys; the key registered at
    // its first contact after the upgrade).
    const bad = { ...wire[1]!, sig: randomBytes(64).toString('base64url') };
    pairAt(site, { deviceId: 'ra-v1' });
    new Consumer(site).ingest([wire[0]!, bad, ...wire.slice(2)], 'rest');
    new Consumer(site).consume();
    registerDeviceKey(site, { deviceId: 'ra-v1', role: 'field', publicKey: null }, laptop.signingKey.publicKey);
    const usb = dirs.path('usb-v1');
    exportBatches(site, usb);
    const manifest = JSON.parse(readFileSync(manifestsIn(usb)[0]!, 'utf8')) as { deviceList?: { issuer: string; devices: { deviceId: string }[] } };
    assert.deepEqual([manifest.deviceList?.issuer, manifest.deviceList?.devices.map((d) => d.deviceId)], ['site-v1', ['ra-v1']]);
    const central = dirs.store('central', 'central-v1');
    const r = importBatches(central, usb);
    assert.deepEqual(r.imported, []);
    assert.match(r.quarantined[0]?.reason ?? '', /refused: the signature does not verify under ra-v1's device key/);
    // The altered one is not stored; the laptop's genuinely signed ones are (they verify), and the batch waits to be sent again.
    assert.equal(central.sql.prepare('SELECT 1 FROM incoming_transaction WHERE id = ?').get(bad.id), undefined);
    assert.equal((central.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE sig IS NOT NULL').get() as { n: number }).n, wire.length - 1);

    // The same laptop's data, all as signed: imported, every signature kept.
    const good = dirs.store('site', 'site-v2');
    pairAt(good, laptop);
    new Consumer(good).ingest(wire, 'rest');
    new Consumer(good).consume();
    const usb2 = dirs.path('usb-v2');
    exportBatches(good, usb2);
    const c2 = dirs.store('central', 'central-v2');
    assert.equal(importBatches(c2, usb2).imported.length, 1);
    assert.deepEqual(c2.sql.prepare('SELECT count(*) AS n, count(*) FILTER (WHERE sig IS NULL) AS unsigned FROM incoming_transaction').get(), { n: wire.length, unsigned: 0 });
  });

  it('trust and device-key on the command line: a bad key is refused plainly; a replaced key says so', () => {
    const a = dirs.store('site', 'site-k1');
    const b = dirs.store('central', 'central-k1');
    a.close();
    b.close();
    const run = (dir: string, args: string[]) => execFileSync(process.execPath, [BIN, '--data', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const k = JSON.parse(run(b.dir, ['device-key', '--json'])) as { deviceId: string; publicKey: string };
    assert.equal(k.deviceId, 'central-k1');
    assert.match(run(a.dir, ['trust', '--device-id', k.deviceId, '--public-key', k.publicKey]), /key of central-k1 recorded/);
    assert.throws(() => run(a.dir, ['trust', '--device-id', 'central-k1', '--public-key', 'not-a-key']), (e: { stderr: string }) => /not a device key.*\[INPUT_INVALID\]/.test(e.stderr));
    const other = dirs.store('central', 'central-k2');
    assert.match(run(a.dir, ['trust', '--device-id', 'central-k1', '--public-key', other.signingKey.publicKey]), /key of central-k1 replaced \(was pinned registered on /);
  });
});
