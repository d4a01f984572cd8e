/**
 * The file-target contract, one suite run against every driver: a local folder, SFTP against a real OpenSSH sshd
 * (testing/sshd.ts) and memory. A new driver joins by adding its factory to DRIVERS. Then `send` over a folder target
 * (a USB stick as a first-class target): batches put, receipts read back the same way as over SFTP.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../../shared/errors.ts';
import { seed } from '../../core/seed.ts';
import { readStatus } from '../../core/status.ts';
import { pairAt, TestDirs } from '../../core/testing/fixtures.ts';
import { startSshd, type Sshd } from '../../core/testing/sshd.ts';
import { exportBatches } from '../export.ts';
import { importBatches } from '../import.ts';
import { send } from '../send.ts';
import { FolderTarget } from './folder.ts';
import { MemoryTarget } from './memory.ts';
import { connectSftp, type SftpConnection } from './sftp.ts';
import type { FileTarget } from './target.ts';

interface Made {
  target: FileTarget;
  /** Test set-up only: a folder inside the target's root, made behind its back. */
  mkdir(rel: string): void;
}

let sshd: Sshd;
let conn: SftpConnection;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'edc-targets-'));
let n = 0;

const DRIVERS: { name: string; kind: string; authenticated: boolean; make(): Made }[] = [
  {
    name: 'folder', kind: 'folder', authenticated: false, make() {
      const root = path.join(tmp, `folder-${++n}`);
      mkdirSync(root);
      return { target: new FolderTarget(root), mkdir: (rel) => mkdirSync(path.join(root, rel), { recursive: true }) };
    },
  },
  {
    name: 'sftp (real sshd)', kind: 'sftp', authenticated: true, make() {
      const root = path.join(sshd.root, `sftp-${++n}`);
      mkdirSync(root);
      return { target: conn.at(root), mkdir: (rel) => mkdirSync(path.join(root, rel), { recursive: true }) };
    },
  },
  {
    name: 'memory', kind: 'memory', authenticated: false, make() {
      const target = new MemoryTarget();
      return { target, mkdir: (rel) => target.mkdir(rel) };
    },
  },
];

async function rejectsEdc(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e) => isEdcError(e) && (e.code === 'IO_FAILED' || e.code === 'SFTP_FAILED'), what);
}

before(async () => {
  sshd = await startSshd();
  conn = await connectSftp({ host: sshd.host, port: sshd.port, user: sshd.user, privateKey: readFileSync(sshd.clientKey), hostKeyFingerprint: sshd.hostFingerprint });
});
after(async () => {
  await conn.close();
  await sshd.stop();
  rmSync(tmp, { recursive: true, force: true });
});

for (const d of DRIVERS) {
  describe(`file target contract: ${d.name}`, () => {
    it('describes itself; an empty root lists nothing; what is absent neither exists nor reads', async () => {
      const { target } = d.make();
      assert.equal(target.describe().kind, d.kind);
      assert.equal(target.describe().authenticated, d.authenticated);
      assert.ok(target.describe().where.length > 0);
      assert.deepEqual(await target.list(''), []);
      assert.deepEqual(await target.list('receipts'), [], 'a folder that does not exist lists nothing');
      assert.equal(await target.exists('a.json'), false);
      assert.equal(await target.stat('a.json'), null);
      await rejectsEdc(target.read('a.json', 1024), 'a missing file is refused');
    });

    it('put: bytes and a local file land whole under their name, no temporary file left; overwrite replaces', async () => {
      const { target } = d.make();
      const r = await target.put('a.json', Buffer.from('{"a":1}'));
      assert.deepEqual(r, { size: 7, sha256: '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862' });
      const local = path.join(tmp, `src-${++n}.bin`);
      const big = Buffer.alloc(300_000, 7);
      big[123_456] = 1;
      writeFileSync(local, big);
      await target.put('b.bin', { file: local });
      assert.deepEqual((await target.list('')).sort((x, y) => x.name.localeCompare(y.name)), [{ name: 'a.json', size: 7 }, { name: 'b.bin', size: big.length }]);
      assert.deepEqual(await target.read('b.bin', big.length), big);
      assert.equal(await target.exists('b.bin'), true);
      assert.deepEqual(await target.stat('b.bin'), { size: big.length });
      await target.put('a.json', Buffer.from('{"a":22}'));
      assert.equal((await target.read('a.json', 100)).toString(), '{"a":22}');
      assert.equal((await target.list('')).length, 2, 'one file per name, no .part left');
    });

    it('read refuses a file larger than asked; put refuses a missing folder and writes nothing; paths stay inside', async () => {
      const { target } = d.make();
      await target.put('c.txt', Buffer.from('0123456789'));
      await rejectsEdc(target.read('c.txt', 9), 'larger than maxBytes');
      await rejectsEdc(target.put('nowhere/d.txt', Buffer.from('x')), 'a missing folder is not created');
      assert.deepEqual(await target.list('nowhere'), []);
      await rejectsEdc(target.read('../c.txt', 100), 'a path out of the root');
      await rejectsEdc(target.put('../../escape.txt', Buffer.from('x')), 'a put out of the root');
    });

    it('folders: listed files are regular files only; sub-folders hold files; remove removes, twice is fine', async () => {
      const { target, mkdir } = d.make();
      mkdir('receipts');
      await target.put('receipts/r1.json', Buffer.from('{}'));
      assert.equal(await target.exists('receipts'), true);
      assert.equal(await target.stat('receipts'), null, 'a folder is not a file');
      assert.deepEqual(await target.list(''), [], 'a folder is not listed as a file');
      assert.deepEqual(await target.list('receipts'), [{ name: 'r1.json', size: 2 }]);
      await target.remove('receipts/r1.json');
      await target.remove('receipts/r1.json');
      assert.deepEqual(await target.list('receipts'), []);
      assert.equal(await target.exists('receipts/r1.json'), false);
      await rejectsEdc(target.remove('receipts'), 'a folder is not removed as a file');
    });
  });
}

describe('send to a folder target (a USB stick)', () => {
  it('batches are put on the stick, the site imports them there, and the laptop reads the receipts back from it', async () => {
    const dirs = new TestDirs();
    try {
      const field = dirs.store('field', 'ra-t1');
      seed(field, 3, { seed: 7 });
      const site = dirs.store('site', 'site-t1');
      pairAt(site, field);
      const stick = dirs.path('stick');
      mkdirSync(stick);
      symlinkSync('/dev/zero', path.join(stick, 'not-a-batch.jsonl.gz'));
      field.saveSettings({ ...field.settings, fileTarget: 'folder', folderPath: stick });
      exportBatches(field);
      const first = await send(field);
      assert.equal(first.sent.length, 1);
      assert.equal(readdirSync(stick).filter((f) => f.startsWith('.')).length, 0, 'no temporary file left on the stick');
      assert.equal(importBatches(site, stick).imported.length, 1);
      const before = readStatus(field).outgoing.pendingServer;
      assert.ok(before > 0);
      // The stick's receipts are believed as a folder's are (signed by a key on record here): not yet.
      const second = await send(field);
      assert.equal(second.receipts.refused.length, 1);
      const { pinPeerKey } = await import('../signing.ts');
      pinPeerKey(field, site.deviceId, site.signingKey.publicKey, 'registered');
      const third = await send(field);
      assert.equal(third.receipts.acknowledged.length, 1);
      assert.equal(readStatus(field).outgoing.pendingServer, 0);
      field.saveSettings({ ...field.settings, folderPath: dirs.path('not-mounted') });
      await assert.rejects(send(field), (e) => isEdcError(e) && e.code === 'IO_FAILED' && /mounted/.test(e.message));
    } finally {
      dirs.cleanup();
    }
  });
});
