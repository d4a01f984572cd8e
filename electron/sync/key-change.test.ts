/**
 * A new key is visible before it is too late (issue 9, deliverable 5): a laptop that rotated its key pushes to a site
 * that does not have it yet; the push keeps those changes on the laptop with the reason instead of handing over what
 * the site cannot read; the site's administrator imports the key set with the CLI while the server runs; the server
 * sees it within seconds (what had failed for want of it is retried by itself) and the next push delivers the rest.
 * A real site server process; the key import is a real CLI process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { BIN, pairWithSite, startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { outgoingWire, TestDirs } from '../core/testing/fixtures.ts';
import { readServerLink } from './server-link.ts';
import { push } from './push.ts';

function readSiteStatusOf(dir: string) {
  return JSON.parse(execFileSync(process.execPath, [BIN, '--data', dir, 'status', '--json'], { encoding: 'utf8' })) as ReturnType<typeof readStatus>;
}

describe('a rotated key: held at the laptop with the reason, then delivered once the site has it', () => {
  let dirs: TestDirs;
  let server: ServerProc;
  let siteDir = '';
  before(async () => {
    dirs = new TestDirs();
    const site = dirs.store('site', 'site-k');
    siteDir = site.dir;
    site.close();
    server = await startServer(siteDir);
  });
  after(async () => {
    await server.kill('SIGTERM');
    dirs.cleanup();
  });

  const readSiteStatus = () => readSiteStatusOf(siteDir);
  it('the push is held until the site has the key; a key set imported by the CLI is seen by the running server', { timeout: 120_000 }, async () => {
    const laptop = dirs.store('field', 'ra-k1');
    await pairWithSite(laptop, siteDir, server.url);
    seed(laptop, 2, { seed: 1 });
    const first = await push(laptop);
    assert.deepEqual(first.held, []);
    const before = outgoingWire(laptop).length;
    // The RA's laptop rotates its key; new work is encrypted under the new key.
    const rotated = KeySet.parse(readFileSync(path.join(laptop.keyDir, KEYSET_FILE), 'utf8'), 'laptop').rotated();
    writeKeySetFile(path.join(laptop.keyDir, KEYSET_FILE), rotated);
    laptop.reloadKeys();
    seed(laptop, 2, { seed: 2 });
    const newer = outgoingWire(laptop).length - before;

    const held = await push(laptop);
    assert.equal(held.sent, 0);
    assert.deepEqual(held.held.map((h) => [h.producer, h.count]), [['ra-k1', newer]]);
    assert.match(held.held[0]!.reason, new RegExp(`site-k does not have key ${rotated.activeKeyId}: export the key set .* and import it on site-k`));
    assert.equal(readStatus(laptop).outgoing.pendingServer, newer, 'kept on the laptop, pending, not marked delivered');
    assert.equal((await waitForStore(siteDir, (s) => s.incoming.pending === 0)).incoming.error, 0, 'nothing the site cannot read reached it');

    // An older client ignores pre-flight and pushes one of them anyway: it waits at the site for want of the key.
    const stray = outgoingWire(laptop).slice(before, before + 1);
    const res = await fetch(`${server.url}/api/v1/push`, {
      method: 'POST', headers: { authorization: `Bearer ${readServerLink(laptop.dir).token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ transactions: stray })),
    });
    assert.equal(res.status, 200);
    await waitForStore(siteDir, (s) => s.incoming.total === before + 1);
    assert.equal(readSiteStatus().incoming.consumed, before, 'not applied: the site cannot read it');

    // The site's administrator imports the rotated key set with the CLI; the running server picks it up by itself.
    const keyFile = dirs.path('rotated.keys');
    writeKeySetFile(keyFile, rotated);
    execFileSync(process.execPath, [BIN, '--data', siteDir, 'keys', 'import', keyFile], { stdio: 'pipe' });
    const retried = await waitForStore(siteDir, (s) => s.incoming.error === 0 && s.incoming.consumed === before + 1, 30_000);
    assert.equal(retried.incoming.error, 0, 'applied without a Retry click or a restart');

    const again = await push(laptop);
    assert.deepEqual(again.held, []);
    assert.equal(again.sent, newer, 'the held ones go now (the one already there counts as a duplicate)');
    assert.equal(readStatus(laptop).outgoing.pendingServer, 0);
    const site = await waitForStore(siteDir, (s) => s.incoming.consumed === before + newer);
    assert.deepEqual([site.incoming.error, site.incoming.pending], [0, 0]);
  });
});
