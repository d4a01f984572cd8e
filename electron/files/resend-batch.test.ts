/**
 * Re-send a batch (issue 9, deliverable 11) and its receipt (deliverable 8, in part): `export --resend N` writes the
 * same batch again, byte for byte, under its original number; a copy damaged on the way and quarantined is replaced by
 * it and imported; a batch imported before whose receipt was lost gets its receipt again. Real stores and files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { BATCH_SUFFIX, MANIFEST_SUFFIX } from '../../shared/files.ts';
import { Consumer } from '../core/consumer.ts';
import { seed } from '../core/seed.ts';
import { Store } from '../core/store.ts';
import { BIN } from '../core/testing/processes.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { exportBatches, resendBatch } from './export.ts';
import { importBatches } from './import.ts';
import { applyReceipts, readReceiptsDir } from './receipts.ts';
import { pinPeerKey } from './signing.ts';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const filesOf = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(BATCH_SUFFIX) || f.endsWith(MANIFEST_SUFFIX)).sort();

describe('re-send a batch, byte for byte', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a batch damaged on the way is quarantined; written again, it imports under its number and its receipt clears the site', async () => {
    const field = dirs.store('field', 'ra-b1');
    seed(field, 6, { seed: 1 });
    const site = dirs.store('site', 'site-b1');
    pairAt(site, field);
    new Consumer(site).ingest(outgoingWire(field), 'rest');
    new Consumer(site).consume();
    const usb = dirs.path('usb-b1');
    const [b] = exportBatches(site, usb).batches;
    const names = filesOf(usb);
    const before = Object.fromEntries(names.map((f) => [f, sha(path.join(usb, f))]));
    // A bit flips on the stick.
    const data = path.join(usb, b!.fileName);
    const bytes = readFileSync(data);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(data, bytes);
    const central = dirs.store('central', 'central-b1');
    const damaged = importBatches(central, usb);
    assert.match(damaged.quarantined[0]?.reason ?? '', /sha256 does not match/);
    assert.deepEqual(filesOf(usb), [], 'the damaged copy went to quarantine');

    // The site writes batch 1 again (the CLI, as the data manager would): the same bytes, the same name.
    site.close();
    const out = execFileSync(process.execPath, [BIN, '--data', site.dir, 'export', '--resend', String(b!.batchSeq), '--out', usb], { encoding: 'utf8' });
    assert.match(out, new RegExp(`^batch ${b!.batchSeq} \\(${b!.count} transaction\\(s\\)\\) written again to `));
    assert.deepEqual(Object.fromEntries(filesOf(usb).map((f) => [f, sha(path.join(usb, f))])), before, 'data file and manifest byte for byte');
    const again = importBatches(central, usb);
    assert.deepEqual([again.imported.length, again.quarantined.length, again.gaps.length], [1, 0, 0]);
    const s = dirs.track(Store.open(site.dir));
    assert.deepEqual(snapshot(central), snapshot(s));
    pinPeerKey(s, 'central-b1', central.signingKey.publicKey, 'registered');
    assert.equal(applyReceipts(s, await readReceiptsDir(usb), { via: 'usb' }).acknowledged.length, 1);
    assert.equal((s.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE forwarded_at IS NULL').get() as { n: number }).n, 0);
  });

  it('a batch imported before whose receipt was lost: sent again, it is not applied twice and its receipt comes back', async () => {
    const field = dirs.store('field', 'ra-b2');
    seed(field, 4, { seed: 2 });
    const usb = dirs.path('usb-b2');
    const [b] = exportBatches(field, usb).batches;
    const site = dirs.store('site', 'site-b2');
    pairAt(site, field);
    assert.equal(importBatches(site, usb).imported.length, 1);
    rmSync(path.join(usb, 'receipts'), { recursive: true }); // the stick's receipts were lost
    const history = (site.sql.prepare('SELECT count(*) AS n FROM audit_history').get() as { n: number }).n;
    resendBatch(field, b!.fileName, usb);
    const r = importBatches(site, usb);
    assert.deepEqual([r.imported.length, r.skipped.length, r.quarantined.length], [0, 1, 0]);
    assert.equal((site.sql.prepare('SELECT count(*) AS n FROM audit_history').get() as { n: number }).n, history, 'nothing applied twice');
    pinPeerKey(field, 'site-b2', site.signingKey.publicKey, 'registered');
    const ack = applyReceipts(field, await readReceiptsDir(usb), { via: 'usb' });
    assert.deepEqual([ack.acknowledged.length, ack.refused.length], [1, 0]);
    assert.equal((field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction WHERE is_consumed_server = 0').get() as { n: number }).n, 0);
  });

  it('a sent batch goes back to the send queue; an unknown batch or a central store is refused plainly', () => {
    const field = dirs.store('field', 'ra-b3');
    seed(field, 2, { seed: 3 });
    const [b] = exportBatches(field, dirs.path('usb-b3')).batches;
    field.sql.prepare("UPDATE file_batch SET status = 'sent', sent_at = ? WHERE batch_seq = ?").run(new Date().toISOString(), b!.batchSeq);
    resendBatch(field, String(b!.batchSeq));
    assert.equal((field.sql.prepare('SELECT status FROM file_batch WHERE batch_seq = ?').get(b!.batchSeq) as { status: string }).status, 'written');
    const code = (fn: () => unknown) => { try { fn(); return 'ok'; } catch (e) { return isEdcError(e) ? e.code : 'other'; } };
    assert.equal(code(() => resendBatch(field, '99')), 'RECORD_NOT_FOUND');
    assert.equal(code(() => resendBatch(field, 'not-a-batch')), 'RECORD_NOT_FOUND');
    assert.equal(code(() => resendBatch(dirs.store('central', 'central-b3'), '1')), 'ROLE_NOT_ALLOWED');
  });
});
