/**
 * Crash-proof, filesystem-proof import (issue 9, deliverable 8), with real stores, the real command line and a real
 * server process: `import` killed with SIGKILL at each of its file steps (deterministically: EDC_FAULT_AT, see
 * files/faults.ts) and run again ends with exactly the laptop's records and every receipt, so the laptop's pending
 * count reaches 0; a USB stick on another file system (a tmpfs mount) is archived by copy, flush, rename, remove,
 * and converges when killed inside that copy; hostile files (a gzip of 200 MB of newlines, a huge line, too many
 * lines, a manifest that is a link to /dev/zero or a pipe, a data file linked from outside the folder, an oversized
 * manifest, links under receipts/) are quarantined or passed over with a plain reason by `edc-sync import` and by the
 * running server's "Import arrived files", which both go on to import the good batches; the laptop reading receipts
 * back from a stick reads regular files only.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { batchFileName, BATCH_SUFFIX, MANIFEST_SUFFIX, type Manifest } from '../../shared/files.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { pairAt, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { BIN, startServer } from '../core/testing/processes.ts';
import { addUser } from '../web/accounts.ts';
import { exportBatches, resendBatch } from './export.ts';
import { IMPORT_LIMITS, IMPORT_UNFINISHED_STATE, type ImportResult } from './import.ts';
import { applyReceipts, readReceiptsDir } from './receipts.ts';
import { MANIFEST_DOMAIN, pinPeerKey, signDocument } from './signing.ts';

const batchNames = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(BATCH_SUFFIX) || f.endsWith(MANIFEST_SUFFIX)).sort() : []);
const receiptsIn = (dir: string) => (existsSync(path.join(dir, 'receipts')) ? readdirSync(path.join(dir, 'receipts')).filter((f) => f.endsWith('.json')).sort() : []);
const count = (s: Store, sql: string, ...args: unknown[]) => Number((s.sql.prepare(sql).get(...args) as { n: number | string }).n);

/** `edc-sync import --dir D --json` on the store in dataDir, killed at `fault` when given. */
function runImport(dataDir: string, dir: string, fault?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.EDC_FAULT_AT;
  if (fault) env.EDC_FAULT_AT = fault;
  return spawnSync(process.execPath, [BIN, '--data', dataDir, 'import', '--dir', dir, '--json'], { encoding: 'utf8', env, timeout: 120_000 });
}

describe('import: kill -9 at every file step, a stick on another file system, hostile files', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  let n = 0;
  /** A field laptop with two batches exported to `stick`, and a site paired with it whose store is closed (the CLI opens it). */
  function setup(stick: string) {
    const tag = `k${++n}`;
    const field = dirs.store('field', `ra-${tag}`);
    seed(field, 4, { seed: 100 + n });
    exportBatches(field, stick);
    seed(field, 3, { seed: 200 + n });
    exportBatches(field, stick);
    assert.equal(batchNames(stick).length, 4);
    const site = dirs.store('site', `site-${tag}`);
    pairAt(site, field);
    pinPeerKey(field, site.deviceId, site.signingKey.publicKey, 'registered'); // the laptop believes the site's receipts from a stick
    site.close();
    return { field, siteDir: site.dir, stick };
  }

  /** The site's store, opened for a look and closed again. */
  function look<T>(siteDir: string, fn: (s: Store) => T): T {
    const s = Store.open(siteDir);
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }

  /** Every record of the laptop once at the site, nothing left behind, and the receipts bring its pending count to 0. */
  async function assertConverged(field: Store, siteDir: string, stick: string) {
    const archive = path.join(siteDir, 'transactions', 'archive');
    look(siteDir, (site) => {
      assert.deepEqual(snapshot(site), snapshot(field), 'the site holds exactly the laptop\'s records');
      assert.deepEqual(readStatus(site).records, readStatus(field).records, 'exact totals per model');
      assert.equal(count(site, "SELECT count(DISTINCT batch_id) AS n FROM file_import WHERE status = 'imported'"), 2);
      assert.equal(count(site, "SELECT count(*) AS n FROM file_import WHERE status = 'imported'"), 2, 'each batch recorded once');
      assert.equal(readStatus(site).incoming.quarantinedFiles, 0);
      assert.equal(site.getState(IMPORT_UNFINISHED_STATE) ?? '[]', '[]', 'no file step left undone');
    });
    assert.deepEqual(batchNames(stick), [], 'nothing left on the stick');
    assert.equal(batchNames(archive).length, 4, 'both batches archived, data file and manifest');
    assert.deepEqual(readdirSync(archive).filter((f) => f.startsWith('.')), [], 'no temporary copy left in the archive');
    assert.equal(receiptsIn(stick).length, 2, 'a receipt per batch');
    const ack = applyReceipts(field, await readReceiptsDir(stick), { via: 'usb' });
    assert.deepEqual(ack.refused, []);
    assert.equal(readStatus(field).outgoing.pendingServer, 0, 'the laptop\'s pending count reaches 0');
  }

  /** Killed where told (SIGKILL, not an exit), then a plain run that succeeds. */
  function killThenRerun(siteDir: string, stick: string, fault: string, atKill?: () => void) {
    const killed = runImport(siteDir, stick, fault);
    assert.equal(killed.signal, 'SIGKILL', `killed at ${fault}: ${killed.stderr}`);
    atKill?.();
    const again = runImport(siteDir, stick);
    assert.equal(again.status, 0, again.stderr);
    return JSON.parse(again.stdout) as ImportResult;
  }

  const archiveOf = (siteDir: string) => path.join(siteDir, 'transactions', 'archive');
  const firstBatch = (stick: string) => batchNames(stick).find((f) => f.endsWith(BATCH_SUFFIX))!;

  /** Where each kill left things: proof that the kill came at that step and not elsewhere. */
  const atKill: Record<string, (siteDir: string, stick: string, b1: string) => void> = {
    'commit': (siteDir, stick) => {
      look(siteDir, (s) => {
        assert.equal(count(s, 'SELECT count(*) AS n FROM file_import'), 0, 'killed before its commit: nothing of the batch kept');
        assert.equal(count(s, 'SELECT count(*) AS n FROM incoming_transaction'), 0);
      });
      assert.equal(batchNames(stick).length, 4);
    },
    'committed': (siteDir, stick) => {
      look(siteDir, (s) => {
        assert.equal(count(s, "SELECT count(*) AS n FROM file_import WHERE status = 'imported'"), 1);
        assert.ok(count(s, 'SELECT count(*) AS n FROM incoming_transaction') > 0, 'the ingest committed with the record');
        assert.notEqual(s.getState(IMPORT_UNFINISHED_STATE) ?? '[]', '[]', 'and the note of its file steps');
      });
      assert.equal(batchNames(stick).length, 4, 'no file moved yet');
    },
    'consumed': (siteDir, stick) => {
      look(siteDir, (s) => assert.ok(count(s, 'SELECT count(*) AS n FROM incoming_transaction WHERE is_consumed = 1') > 0));
      assert.equal(batchNames(stick).length, 4);
    },
    'archive-data': (siteDir, stick, b1) => {
      assert.ok(existsSync(path.join(archiveOf(siteDir), b1)), 'the data file is archived');
      assert.ok(existsSync(path.join(stick, b1 + MANIFEST_SUFFIX)), 'its manifest is not');
    },
    'archive-manifest': (siteDir, stick, b1) => {
      assert.ok(existsSync(path.join(archiveOf(siteDir), b1 + MANIFEST_SUFFIX)));
      assert.deepEqual(receiptsIn(stick), [], 'no receipt yet');
    },
    'receipt-written': (siteDir, stick) => {
      assert.equal(receiptsIn(stick).length, 1);
      look(siteDir, (s) => assert.notEqual(s.getState(IMPORT_UNFINISHED_STATE) ?? '[]', '[]', 'its note not yet removed'));
    },
  };

  for (const fault of Object.keys(atKill)) {
    it(`killed at "${fault}" of the first batch, the next import converges: exact totals, every receipt, pending 0`, async () => {
      const { field, siteDir, stick } = setup(dirs.path(`usb-${fault}`));
      const b1 = firstBatch(stick);
      const r = killThenRerun(siteDir, stick, fault, () => atKill[fault]!(siteDir, stick, b1));
      assert.deepEqual(r.quarantined, []);
      assert.deepEqual(r.gaps, []);
      await assertConverged(field, siteDir, stick);
    });
  }

  it('killed at the second batch\'s commit and at the move of its manifest: converges the same', async () => {
    for (const fault of ['commit:2', 'archive-manifest:2']) {
      const { field, siteDir, stick } = setup(dirs.path(`usb-second-${fault.replace(':', '-')}`));
      killThenRerun(siteDir, stick, fault, () => assert.equal(batchNames(stick).length, fault.startsWith('commit') ? 2 : 0));
      await assertConverged(field, siteDir, stick);
    }
  });

  it('a re-sent batch that was already imported gets its receipt again, also when the import is killed on the way', async () => {
    const { field, siteDir, stick } = setup(dirs.path('usb-resent'));
    assert.equal(runImport(siteDir, stick).status, 0);
    rmSync(path.join(stick, 'receipts'), { recursive: true }); // the stick's receipts were lost
    for (const seq of ['1', '2']) resendBatch(field, seq, stick);
    const r = killThenRerun(siteDir, stick, 'archive-manifest', () => {
      look(siteDir, (s) => assert.equal(count(s, "SELECT count(*) AS n FROM file_import WHERE status = 'skipped'"), 1));
    });
    assert.deepEqual(r.skipped.map((x) => x.reason), ['already imported', 'already imported']);
    assert.deepEqual(r.imported, []);
    await assertConverged(field, siteDir, stick);
  });

  it('a damaged batch killed half-way into quarantine: quarantined once, whole; sent again, it imports', async () => {
    const { field, siteDir, stick } = setup(dirs.path('usb-damaged'));
    const b1 = firstBatch(stick);
    const bytes = readFileSync(path.join(stick, b1));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(path.join(stick, b1), bytes);
    const quarantine = path.join(siteDir, 'transactions', 'quarantine');
    const r = killThenRerun(siteDir, stick, 'quarantine-data', () => {
      assert.ok(existsSync(path.join(quarantine, b1)));
      assert.ok(existsSync(path.join(stick, b1 + MANIFEST_SUFFIX)), 'killed between the two moves');
    });
    assert.match(r.quarantined[0]?.reason ?? '', /sha256 does not match/);
    assert.deepEqual(r.gaps.map((g) => [g.from, g.to]), [[1, 1]], 'batch 2 waits for batch 1');
    assert.deepEqual(readdirSync(quarantine).sort(), [b1, b1 + MANIFEST_SUFFIX, `${b1}.reason.txt`].sort());
    look(siteDir, (s) => assert.equal(readStatus(s).incoming.quarantinedFiles, 1, 'counted once'));
    resendBatch(field, '1', stick);
    assert.equal(runImport(siteDir, stick).status, 0);
    look(siteDir, (s) => {
      assert.deepEqual(snapshot(s), snapshot(field));
      assert.equal(count(s, "SELECT count(*) AS n FROM file_import WHERE status = 'imported'"), 2);
    });
    assert.equal(applyReceipts(field, await readReceiptsDir(stick), { via: 'usb' }).acknowledged.length, 2);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
  });

  it('the laptop reading receipts back from a stick reads regular files only: a link to /dev/zero, a pipe and a huge file are passed over', async () => {
    const { field, siteDir, stick } = setup(dirs.path('usb-receipts-back'));
    assert.equal(runImport(siteDir, stick).status, 0);
    const folder = path.join(stick, 'receipts');
    symlinkSync('/dev/zero', path.join(folder, `${randomUUID()}.json`));
    execFileSync('mkfifo', [path.join(folder, `${randomUUID()}.json`)]);
    writeFileSync(path.join(folder, `${randomUUID()}.json`), Buffer.alloc(2 * 1024 * 1024, 0x20));
    const receipts = await readReceiptsDir(stick);
    assert.equal(receipts.length, 2, 'the two real receipts');
    assert.equal(applyReceipts(field, receipts, { via: 'usb' }).acknowledged.length, 2);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
  });

  const notRoot = typeof process.getuid === 'function' && process.getuid() !== 0;
  it('a USB stick on another file system (tmpfs): archived by copy, flush, rename, remove; killed inside the copy, it converges', {
    skip: notRoot ? 'mounting a tmpfs needs root (CI runs the tests as root)' : false,
  }, async () => {
    const mount = dirs.path('stick-mount');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', mount]);
    try {
      const { field, siteDir, stick } = setup(path.join(mount, 'plain'));
      const r = runImport(siteDir, stick);
      assert.equal(r.status, 0, r.stderr);
      assert.notEqual(lstatSync(stick).dev, lstatSync(archiveOf(siteDir)).dev, 'the stick is on another file system');
      await assertConverged(field, siteDir, stick);
      for (const fault of ['copy-synced', 'copy-placed', 'copy-placed:2', 'archive-data']) {
        const c = setup(path.join(mount, fault.replace(':', '-')));
        const b1 = firstBatch(c.stick);
        killThenRerun(c.siteDir, c.stick, fault, () => {
          if (fault === 'copy-synced') {
            assert.ok(existsSync(path.join(archiveOf(c.siteDir), `.${b1}.part`)), 'a flushed copy beside the archive');
            assert.ok(existsSync(path.join(c.stick, b1)), 'the source not removed yet');
          }
          if (fault === 'copy-placed') assert.ok(existsSync(path.join(archiveOf(c.siteDir), b1)) && existsSync(path.join(c.stick, b1)), 'in place, the source not removed yet');
        });
        await assertConverged(c.field, c.siteDir, c.stick);
      }
    } finally {
      execFileSync('umount', ['-l', mount]);
    }
  });

  /**
   * Hostile files beside a laptop's two good batches, each with a manifest the laptop really signed (as a stolen or
   * buggy laptop could), numbered 3, the laptop's next batch: each is read once its good batches 1 and 2 are in. Returns the
   * reason each must be quarantined with, by file name, and what lies outside the folder.
   */
  function plantHostile(field: Store, stick: string): { reasons: Map<string, RegExp>; outside: string } {
    mkdirSync(stick, { recursive: true });
    const template = JSON.parse(readFileSync(path.join(stick, batchNames(stick).find((f) => f.endsWith(MANIFEST_SUFFIX))!), 'utf8')) as Manifest;
    const reasons = new Map<string, RegExp>();
    const forge = (data: Buffer, why: RegExp, place: (file: string) => void = (file) => writeFileSync(file, data)) => {
      const batchId = randomUUID();
      const fileName = batchFileName(field.deviceId, 3, batchId);
      const { sig: _s, publicKey: _p, ...rest } = template;
      const manifest = { ...rest, batchSeq: 3, batchId, fileName, count: 5, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
      place(path.join(stick, fileName));
      writeFileSync(path.join(stick, fileName + MANIFEST_SUFFIX), JSON.stringify(signDocument(field, MANIFEST_DOMAIN, manifest)));
      reasons.set(fileName, why);
      return fileName;
    };
    // 200 MB of newlines in 200 KB (gzip members of 1 MiB each, one after the other).
    forge(Buffer.concat(Array.from({ length: 200 }, () => gzipSync(Buffer.alloc(1024 * 1024, 0x0a)))), /decompresses to more than 64 MiB/);
    forge(gzipSync(Buffer.alloc(IMPORT_LIMITS.lineBytes + 1024, 0x78)), /line 1 is longer than 16 MiB/);
    forge(gzipSync(Buffer.alloc(IMPORT_LIMITS.lines + 10, 0x0a)), /more than 50000 lines/);
    // A data file that is a link to a file outside the incoming folder.
    const outside = dirs.path(`outside-${field.deviceId}`);
    forge(gzipSync('{}\n'), /data file is a symbolic link to .*outside.*not a regular file/, (file) => {
      writeFileSync(outside, gzipSync('{}\n'));
      symlinkSync(outside, file);
    });
    // Manifests that are a link to /dev/zero, a named pipe, and a regular file too large to be one.
    const zero = batchFileName(field.deviceId, 1, randomUUID());
    symlinkSync('/dev/zero', path.join(stick, zero + MANIFEST_SUFFIX));
    reasons.set(zero, /manifest is a symbolic link to \/dev\/zero, not a regular file/);
    const fifo = batchFileName(field.deviceId, 1, randomUUID());
    execFileSync('mkfifo', [path.join(stick, fifo + MANIFEST_SUFFIX)]);
    reasons.set(fifo, /manifest is a named pipe/);
    const big = batchFileName(field.deviceId, 1, randomUUID());
    writeFileSync(path.join(stick, big + MANIFEST_SUFFIX), Buffer.alloc(IMPORT_LIMITS.manifestBytes + 1, 0x20));
    reasons.set(big, /manifest is \d+ bytes, more than the 4 MiB/);
    return { reasons, outside };
  }

  function assertHostileHandled(quarantined: { fileName: string; reason: string }[], reasons: Map<string, RegExp>, outside: string, siteDir: string, stick: string) {
    assert.equal(quarantined.length, reasons.size, JSON.stringify(quarantined));
    for (const [fileName, why] of reasons) assert.match(quarantined.find((q) => q.fileName === fileName)?.reason ?? `${fileName} not quarantined`, why);
    assert.ok(existsSync(outside), 'what a link pointed to is never touched');
    for (const d of [stick, archiveOf(siteDir), path.join(siteDir, 'transactions', 'quarantine')]) {
      for (const f of readdirSync(d)) assert.ok(lstatSync(path.join(d, f)).isFile() || f === 'receipts', `${d}/${f} is a regular file (no link, pipe or device archived or left)`);
    }
    assert.deepEqual(batchNames(stick), [], 'every hostile name dealt with, the good batches imported');
  }

  it('hostile files are quarantined with plain reasons by `edc-sync import`, which goes on to import the good batches', async () => {
    const { field, siteDir, stick } = setup(dirs.path('usb-hostile'));
    const { reasons, outside } = plantHostile(field, stick);
    // receipts/ as a link to a folder elsewhere: receipts are never written through it.
    const elsewhere = dirs.path('elsewhere-receipts');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(stick, 'receipts'));
    const r = runImport(siteDir, stick);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as ImportResult;
    assertHostileHandled(result.quarantined, reasons, outside, siteDir, stick);
    assert.equal(result.imported.length, 2);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing written where the link pointed');
    assert.ok(lstatSync(path.join(stick, 'receipts')).isDirectory(), 'receipts/ is a real folder now');
    look(siteDir, (s) => {
      assert.deepEqual(snapshot(s), snapshot(field));
      assert.equal(readStatus(s).incoming.quarantinedFiles, reasons.size);
    });
    assert.equal(applyReceipts(field, await readReceiptsDir(stick), { via: 'usb' }).acknowledged.length, 2);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
  });

  it('the same files through the running server\'s "Import arrived files": quarantined, the server keeps serving, the good batches import', async () => {
    const stickDir = dirs.path('usb-hostile-server');
    const { field, siteDir, stick } = setup(stickDir);
    const { reasons, outside } = plantHostile(field, stick);
    // A link planted under the temporary name of a receipt to come: never written through.
    const victim = dirs.path('victim.txt');
    writeFileSync(victim, 'keep me\n');
    mkdirSync(path.join(stick, 'receipts'));
    const [first] = field.sql.prepare('SELECT batch_id FROM file_batch ORDER BY batch_seq').all() as { batch_id: string }[];
    symlinkSync(victim, path.join(stick, 'receipts', `.${first!.batch_id}.json.tmp`));
    const s = Store.open(siteDir);
    await addUser(s, 'admin', 'admin', 'a long enough password');
    s.saveSettings({ ...s.settings, importDir: stick });
    s.close();
    const server = await startServer(siteDir);
    try {
      const login = await fetch(`${server.url}/api/app/login`, {
        method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify({ username: 'admin', password: 'a long enough password' }),
      });
      assert.equal(login.status, 200);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      const res = await fetch(`${server.url}/api/app/call/files.import`, { method: 'POST', headers: { cookie, origin: server.url, 'content-type': 'application/json' }, body: '{}' });
      const answer = (await res.json()) as { ok: boolean; value?: { imported: number; quarantined: number; message: string } };
      assert.equal(res.status, 200, JSON.stringify(answer));
      assert.deepEqual([answer.value?.imported, answer.value?.quarantined], [2, reasons.size]);
      assert.equal(server.child.exitCode, null, 'the server is still running');
      assert.equal((await fetch(`${server.url}/api/v1/health`)).status, 200, 'and answering');
    } finally {
      await server.kill();
    }
    look(siteDir, (st) => {
      const rows = st.sql.prepare("SELECT file_name AS \"fileName\", reason FROM file_import WHERE status = 'quarantined'").all() as { fileName: string; reason: string }[];
      assertHostileHandled(rows, reasons, outside, siteDir, stick);
      assert.deepEqual(snapshot(st), snapshot(field));
    });
    assert.equal(readFileSync(victim, 'utf8'), 'keep me\n', 'the file a planted link named is untouched');
    assert.ok(receiptsIn(stick).includes(`${first!.batch_id}.json`), 'and the receipt was written all the same');
    assert.equal(applyReceipts(field, await readReceiptsDir(stick), { via: 'usb' }).acknowledged.length, 2);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
  });
});
