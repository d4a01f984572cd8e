/** SFTP send against a real OpenSSH sshd on 127.0.0.1 (started by the fixture), real stores. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { MANIFEST_SUFFIX, manifestSchema } from '../../shared/files.ts';
import { Consumer } from '../core/consumer.ts';
import { copyFrom } from '../core/copy.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { freePort, spawnCli, startTcpProxy } from '../core/testing/processes.ts';
import { startSshd, type Sshd } from '../core/testing/sshd.ts';
import { exportBatches } from './export.ts';
import { importBatches } from './import.ts';
import { pinnedKey } from './signing.ts';
import { send } from './send.ts';

describe('SFTP send', () => {
  let dirs: TestDirs;
  let sshd: Sshd;
  before(async () => {
    dirs = new TestDirs();
    sshd = await startSshd();
  });
  after(async () => {
    await sshd.stop();
    dirs.cleanup();
  });

  /** A site store whose SFTP settings point at the fixture's sshd (remote folders inside its root). */
  function configured(store: Store, remote: string, over: Partial<Store['settings']> = {}): string {
    const remoteDir = path.join(sshd.root, remote);
    mkdirSync(remoteDir, { recursive: true });
    mkdirSync(path.join(sshd.root, `${remote}-media`), { recursive: true });
    store.saveSettings({
      ...store.settings, sftpHost: sshd.host, sftpPort: sshd.port, sftpUser: sshd.user, sftpPrivateKeyPath: sshd.clientKey,
      sftpHostKeyFingerprint: sshd.hostFingerprint, sftpTransactionDir: remoteDir, sftpMediaDir: `${remoteDir}-media`, ...over,
    });
    return remoteDir;
  }

  it('site → export → send → central import + consume: records equal; receipts clear the site\'s pending count', async () => {
    const field = dirs.store('field', 'ra-1');
    seed(field, 30, { seed: 1 });
    const site = dirs.store('site', 'site-1');
    pairAt(site, field);
    copyFrom(site, field.dir);
    new Consumer(site).consume();
    const remote = configured(site, 'central-in');
    let exported = 0;
    for (let i = 0; i < 3; i++) {
      const extra = dirs.store('field', `ra-1${i}`);
      seed(extra, 5, { seed: 2 + i });
      pairAt(site, extra);
      copyFrom(site, extra.dir);
      new Consumer(site).consume();
      exported += exportBatches(site).batches.length; // one batch per producer travelling on
    }
    const first = await send(site);
    assert.equal(first.sent.length, exported);
    assert.deepEqual(first.sent.map((b) => b.batchSeq), Array.from({ length: exported }, (_, i) => i + 1), 'in batch order');
    assert.deepEqual(readdirSync(remote).filter((f) => f.startsWith('.')), [], 'no temporary names left');
    assert.deepEqual(readdirSync(path.join(site.dir, 'transactions', 'outgoing')), [], 'archived locally');
    assert.equal(readdirSync(path.join(site.dir, 'transactions', 'archive')).length, 2 * exported);
    const central = dirs.store('central', 'central-1');
    central.saveSettings({ ...central.settings, importDir: remote });
    const imported = importBatches(central);
    assert.equal(imported.imported.length, exported);
    assert.deepEqual(snapshot(central), snapshot(site));
    const pendingBefore = (site.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE forwarded_at IS NULL').get() as { n: number }).n;
    assert.ok(pendingBefore > 0, 'sent is not delivered');
    const second = await send(site);
    assert.equal(second.receipts.acknowledged.length, exported);
    assert.deepEqual(second.receipts.refused, []);
    // Central's first signed receipt came over SFTP (the host key vouches for the server): its key is pinned now,
    // so a receipt on a USB stick in central's name must carry that key's signature.
    assert.equal(pinnedKey(site, 'central-1')?.publicKey, central.signingKey.publicKey);
    assert.equal(pinnedKey(site, 'central-1')?.how, 'sftp');
    assert.equal((site.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE forwarded_at IS NULL').get() as { n: number }).n, 0);
    assert.equal((await send(site)).receipts.acknowledged.length, 0, 'receipts count once');
  });

  it('send killed mid-upload: no partial file under its final name; the next send completes it', async () => {
    const field = dirs.store('field', 'ra-2');
    seed(field, 1500, { seed: 9 });
    const remote = configured(field, 'cut-in');
    const batches = exportBatches(field).batches;
    assert.ok(batches.length >= 2, `several batches (${batches.length})`);
    field.close();
    const box: { proc?: ReturnType<typeof spawnCli> } = {};
    const proxy = await startTcpProxy(sshd.port, (bytes) => { if (bytes > 3_000_000) box.proc?.child.kill('SIGKILL'); });
    const reopened = dirs.track(Store.open(field.dir));
    reopened.saveSettings({ ...reopened.settings, sftpPort: proxy.port });
    box.proc = spawnCli(['--data', field.dir, 'send']);
    assert.equal(await box.proc.exited, null, 'killed mid-upload');
    await proxy.close();
    for (const f of readdirSync(remote).filter((x) => x.endsWith(MANIFEST_SUFFIX))) {
      const m = manifestSchema.parse(JSON.parse(String(await import('node:fs').then((fs) => fs.readFileSync(path.join(remote, f))))));
      assert.equal(statSync(path.join(remote, m.fileName)).size, m.bytes, 'a batch visible under its final name is complete');
    }
    const visible = readdirSync(remote).filter((x) => x.endsWith('.jsonl.gz'));
    assert.ok(visible.length < batches.length, `cut before the end (${visible.length} of ${batches.length})`);
    reopened.saveSettings({ ...reopened.settings, sftpPort: sshd.port });
    const r = await send(reopened);
    assert.equal(r.sent.length + visible.length >= batches.length, true);
    assert.equal(readdirSync(remote).filter((x) => x.endsWith('.jsonl.gz')).length, batches.length);
    const site = dirs.store('site', 'site-2');
    pairAt(site, reopened);
    const imported = importBatches(site, remote);
    assert.equal(imported.quarantined.length, 0);
    assert.equal(readStatus(site).incoming.total, readStatus(reopened).outgoing.total);
  });

  it('wrong user, unknown host key, unreachable host, unwritable local folder: a readable error, nothing archived', async () => {
    const field = dirs.store('field', 'ra-3');
    seed(field, 5, { seed: 3 });
    const remote = configured(field, 'err-in');
    exportBatches(field);
    const outgoing = path.join(field.dir, 'transactions', 'outgoing');
    const before = readdirSync(outgoing).sort();
    const base = { ...field.settings };
    const attempt = async (over: Partial<Store['settings']>, code: Parameters<typeof isEdcError>[1], pattern?: RegExp) => {
      field.saveSettings({ ...base, ...over });
      await assert.rejects(send(field), (e) => isEdcError(e, code) && (!pattern || pattern.test(e.message)));
      assert.deepEqual(readdirSync(outgoing).sort(), before, 'nothing archived');
      assert.equal((field.sql.prepare("SELECT count(*) AS n FROM file_batch WHERE status != 'written'").get() as { n: number }).n, 0);
    };
    await attempt({ sftpUser: 'nobody-here' }, 'SFTP_AUTH_FAILED');
    await attempt({ sftpHostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'HOST_KEY_MISMATCH', /presented SHA256:/);
    await attempt({ sftpPort: await freePort() }, 'SERVER_UNREACHABLE');
    await attempt({ sftpHost: '' }, 'SFTP_NOT_CONFIGURED', /sftpHost/);
    writeFileSync(path.join(field.dir, 'a-file'), 'x');
    await attempt({ localArchiveDir: 'a-file/archive' }, 'IO_FAILED');
    await attempt({ sftpTransactionDir: path.join(sshd.root, 'does-not-exist') }, 'SFTP_FAILED');
    assert.deepEqual(readdirSync(remote), []);
    field.saveSettings(base);
    assert.equal((await send(field)).sent.length, 1, 'with the settings right it goes');
  });

  it('media files go by content hash, hidden and temporary files skipped, nothing sent twice', async () => {
    const field = dirs.store('field', 'ra-4');
    const remote = configured(field, 'media-in');
    const media = path.join(field.dir, 'media');
    mkdirSync(media);
    writeFileSync(path.join(media, 'consent-scan.PDF'), 'pdf bytes');
    writeFileSync(path.join(media, 'copy-of-scan.pdf'), 'pdf bytes'); // same content: one remote file
    writeFileSync(path.join(media, 'photo.jpg'), 'jpg bytes');
    writeFileSync(path.join(media, '.hidden.jpg'), 'no');
    writeFileSync(path.join(media, 'upload.tmp'), 'no');
    writeFileSync(path.join(media, 'draft.jpg~'), 'no');
    const r = await send(field);
    assert.deepEqual(r.media, { sent: 2, skipped: 1 }, 'the same content twice is sent once');
    const remoteMedia = readdirSync(`${remote}-media`).sort();
    assert.equal(remoteMedia.length, 2);
    for (const f of remoteMedia) assert.match(f, /^[0-9a-f]{64}\.(pdf|jpg)$/);
    assert.ok(!existsSync(path.join(`${remote}-media`, '.hidden.jpg')));
    const again = await send(field);
    assert.deepEqual(again.media, { sent: 0, skipped: 3 });
  });
});
