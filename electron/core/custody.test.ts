/**
 * The signed chain of custody (issue 13, deliverable 4): one tube's chain across field → middleman → site, a
 * tampered record and a missing hand-over flagged, and the records verifying again at central after file transfer.
 * Real stores, a real site server on 127.0.0.1 (in this process), a real share endpoint and pull.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callsAs } from '../app/testing.ts';
import { createBackend, type Backend, type Principal } from '../app/backend.ts';
import { exportBatches } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { issuePairingCode } from '../server/auth.ts';
import { startSiteServer, type SiteServer } from '../server/site-server.ts';
import { pull } from '../sync/pull.ts';
import { push } from '../sync/push.ts';
import { pair } from '../sync/server-link.ts';
import { startShare } from '../sync/share.ts';
import { setTestClockOffset } from './clock.ts';
import { canonicalTubes, CustodyBook, flaggedChains, handoverBytes, signHandover, tubesToOffer, verifiedPullHandover } from './custody.ts';
import { verifySignature } from './crypto/device-key.ts';
import { seed } from './seed.ts';
import { DB_FILE, type Store } from './store.ts';
import { TestDirs } from './testing/fixtures.ts';

const RA: Principal = { username: 'driver', role: null };
const LAB: Principal = { username: 'lab', role: 'lab-assistant' };

const api = (backend: Backend, who: Principal) => callsAs(backend, who).call;

/** Edits a stored row as someone with the plain sqlite3 shell would (the write guard's function answering "allowed"). */
function tamper(store: Store, sql: string, ...params: unknown[]): void {
  if (store.sql.dialect === 'postgres') { // psql with the guard's setting set by hand, as a DBA could
    store.guarded(() => store.sql.prepare(sql).run(...params));
    return;
  }
  const db = new Database(path.join(store.dir, DB_FILE));
  try {
    db.function('edc_write_guard', () => 1);
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

describe('chain of custody: signed hand-overs from draw to lab, verified at the site and at central', () => {
  let dirs: TestDirs;
  let site: Store;
  let server: SiteServer;
  const backends: Backend[] = [];
  before(async () => {
    dirs = new TestDirs();
    site = dirs.store('site', 'site-c');
    server = await startSiteServer(site, '127.0.0.1', 0);
  });
  after(async () => {
    for (const b of backends) await b.close();
    await server.close();
    dirs.cleanup();
  });
  const pairWith = async (s: Store) => { await pair(s, server.url, issuePairingCode(site, { deviceId: s.deviceId, role: s.role }).code); };
  const backendOf = (s: Store) => {
    const b = createBackend({ dataDir: s.dir, host: 'desktop', emit: () => {}, store: s });
    backends.push(b);
    return b;
  };
  const tubesOf = (s: Store) => (s.sql.prepare('SELECT requisition_identifier AS id FROM specimen_requisition WHERE device_id = ? ORDER BY drawn_datetime').all(s.deviceId) as { id: string }[]).map((r) => r.id);

  it('statements: the giver\'s signature covers kind, both devices, its clock and the tubes; another key or another list fails', () => {
    const laptop = dirs.store('field', 'ra-c0');
    const s = signHandover(laptop, { kind: 'pull', toDevice: 'mm-c0', tubes: canonicalTubes(['B-2', 'A-1', 'B-2']) });
    assert.equal(s.tubes, '["A-1","B-2"]', 'canonical: sorted, each once');
    assert.ok(verifySignature(s.handoverKey, handoverBytes(s), s.handoverSig));
    const expect = { laptop: 'ra-c0', laptopKey: laptop.signingKey.publicKey, middleman: 'mm-c0' };
    assert.ok(verifiedPullHandover(s, expect));
    assert.equal(verifiedPullHandover({ ...s, tubes: '["A-1","B-2","C-3"]' }, expect), null, 'a tube added after signing');
    assert.equal(verifiedPullHandover({ ...s, toDevice: 'mm-other' }, { ...expect, middleman: 'mm-other' }), null, 'made for another driver');
    assert.equal(verifiedPullHandover(s, { ...expect, laptopKey: dirs.store('field', 'ra-c00').signingKey.publicKey }), null, 'not the laptop\'s key');
    assert.equal(verifiedPullHandover({ ...s, handedAt: new Date(0).toISOString() }, expect), null, 'another time');
  });

  it('the laptop\'s hand-over endpoint: no session, a bad range or a malformed body is refused; the statement is the laptop\'s own', async () => {
    const laptop = dirs.store('field', 'ra-c9');
    seed(laptop, 1, { seed: 9 });
    const share = await startShare(laptop, { host: '127.0.0.1', port: 0, idleMs: 5_000 });
    try {
      const post = (body: unknown, token?: string) => fetch(`${share.url}/share/v1/handover`, {
        method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      assert.equal((await post({ after: 0, upTo: 10 })).status, 401, 'no share session');
      assert.equal((await post({ after: 0, upTo: 10 }, 'x'.repeat(43))).status, 401, 'a made-up token');
      const session = await fetch(`${share.url}/share/v1/session`, { method: 'POST', body: JSON.stringify({ code: share.code, middleman: 'mm-c9' }), headers: { 'content-type': 'application/json' } });
      const { token } = await session.json() as { token: string };
      for (const bad of [{ after: 5, upTo: 2 }, { after: -1, upTo: 3 }, { after: 'a', upTo: 3 }, { after: 0, upTo: 3, extra: 1 }, []]) {
        assert.equal((await post(bad, token)).status, 400, JSON.stringify(bad));
      }
      const ok = await post({ after: 0, upTo: 1_000_000 }, token);
      const statement = await ok.json() as { fromDevice: string; toDevice: string; handoverKey: string; tubes: string };
      assert.deepEqual([statement.fromDevice, statement.toDevice, statement.handoverKey], ['ra-c9', 'mm-c9', laptop.signingKey.publicKey]);
      assert.equal(statement.tubes, canonicalTubes(tubesOf(laptop)), 'the laptop\'s own requisitions, whatever range is asked for');
    } finally {
      await share.stop();
    }
  });

  it('field → middleman → site: each tube\'s chain with both clocks and signatures; a missing tube keeps its reason', async () => {
    const laptop = dirs.store('field', 'ra-c1');
    const mm = dirs.store('middleman', 'mm-c1');
    setTestClockOffset(laptop, -90 * 60_000); // the laptop's clock is 90 minutes behind: shown, never used to order
    seed(laptop, 4, { seed: 7 });
    await pairWith(laptop);
    await pairWith(mm);
    const tubes = tubesOf(laptop);
    assert.ok(tubes.length >= 4, `${tubes.length} tubes`);

    const share = await startShare(laptop, { host: '127.0.0.1', port: 0 });
    await pull(mm, share.url, share.code, { pageSize: 7 });
    await share.closed;
    const driver = api(backendOf(mm), RA);
    const expected = await driver('reconciliation.expected', {});
    assert.deepEqual(expected.specimens.map((x) => x.requisitionIdentifier).sort(), [...tubes].sort());
    const [lost, ...carried] = tubes;
    const saved = await driver('reconciliation.save', { scope: expected.scope!, location: 'truck', scanned: carried, reasons: { [lost!]: { reason: 'broken', note: 'cracked in the cool box' } }, missingConfirmed: 1 });
    const onMm = new CustodyBook(mm).chain(carried[0]!);
    assert.equal(onMm.steps.length, 1);
    assert.deepEqual([onMm.steps[0]!.handover, onMm.steps[0]!.receipt, onMm.holder], ['valid', 'valid', 'mm-c1']);
    assert.deepEqual(onMm.flags, []);
    assert.ok(Date.parse(onMm.steps[0]!.receivedAt) - Date.parse(onMm.steps[0]!.handedAt) > 80 * 60_000, 'the laptop\'s clock, then the driver\'s');

    // The driver reaches the site: the push carries the driver's signed offer of what it brings.
    assert.deepEqual(tubesToOffer(mm), [...carried].sort());
    await push(mm, { actor: { user: 'driver' } });
    assert.deepEqual(tubesToOffer(mm), [], 'offered once');
    await server.background!.idle();
    const lab = api(backendOf(site), LAB);
    const atLab = await lab('reconciliation.expected', { scope: { kind: 'driver', middleman: 'mm-c1' } });
    assert.deepEqual(atLab.specimens.map((x) => x.requisitionIdentifier).sort(), [...carried].sort());
    await lab('reconciliation.save', { scope: atLab.scope!, location: 'lab', scanned: carried, reasons: {}, missingConfirmed: 0 });

    const { chain } = await lab('custody.chain', { tube: carried[1]! });
    assert.equal(chain.drawnBy, 'ra-c1');
    assert.deepEqual(chain.steps.map((s) => [s.kind, s.from, s.to, s.outcome, s.handover, s.receipt, s.hole]), [
      ['pull', 'ra-c1', 'mm-c1', 'matched', 'valid', 'valid', false],
      ['delivery', 'mm-c1', 'site-c', 'matched', 'valid', 'valid', false],
    ]);
    assert.equal(chain.holder, 'site-c');
    assert.deepEqual(chain.flags, []);
    const missing = (await lab('custody.chain', { tube: lost! })).chain;
    assert.deepEqual(missing.steps.map((s) => [s.outcome, s.reason?.reason, s.reason?.note]), [['missing', 'broken', 'cracked in the cool box']]);
    assert.deepEqual(missing.flags, ['missing']);
    assert.equal(missing.holder, 'ra-c1', 'by the records, nobody took it in');
    assert.equal((await lab('custody.flagged', { page: 0, pageSize: 25 })).total, 0, 'nothing flagged: a missing tube with its reason is not a broken chain');
    assert.match(saved.custodyIdentifier, /^C-MM-C1-/);
  });

  it('a tampered record and a missing hand-over are flagged; the records reach central by file and verify there', async () => {
    const a = dirs.store('field', 'ra-c2');
    const b = dirs.store('field', 'ra-c3');
    const mm = dirs.store('middleman', 'mm-c2');
    seed(a, 3, { seed: 8 });
    seed(b, 2, { seed: 9 });
    for (const s of [a, b, mm]) await pairWith(s);
    const driver = api(backendOf(mm), RA);
    // Laptop A is pulled and reconciled; laptop B is pulled but its tubes are never reconciled by the driver.
    for (const laptop of [a, b]) {
      const share = await startShare(laptop, { host: '127.0.0.1', port: 0 });
      await pull(mm, share.url, share.code);
      await share.closed;
    }
    const pulls = (await driver('reconciliation.expected', {})).pulls;
    const pullOfA = pulls.find((p) => p.producer === 'ra-c2')!;
    const fromA = await driver('reconciliation.expected', { scope: { kind: 'pull', batchId: pullOfA.batchId } });
    const aTubes = fromA.specimens.map((x) => x.requisitionIdentifier);
    await driver('reconciliation.save', { scope: fromA.scope!, location: 'truck', scanned: aTubes, reasons: {}, missingConfirmed: 0 });
    await push(mm, { actor: { user: 'driver' } });
    await server.background!.idle();
    // At the lab, one of B's tubes turns up in the driver's cool box: unexpected, with its reason.
    const bTube = tubesOf(b)[0]!;
    const lab = api(backendOf(site), LAB);
    const atLab = await lab('reconciliation.expected', { scope: { kind: 'driver', middleman: 'mm-c2' } });
    await lab('reconciliation.save', { scope: atLab.scope!, location: 'lab', scanned: [...aTubes, bTube], reasons: { [bTube]: { reason: 'set-aside', note: '' } }, missingConfirmed: 0 });
    const hole = (await lab('custody.chain', { tube: bTube })).chain;
    assert.deepEqual(hole.steps.map((s) => [s.from, s.to, s.outcome, s.hole]), [['mm-c2', 'site-c', 'unexpected', true]]);
    assert.ok(hole.flags.includes('hole'), `flags ${hole.flags.join()}`);

    // Someone edits the site's copy of the driver's pull record with the sqlite3 shell: A's first tube "missing".
    const aTube = aTubes[0]!;
    const before = (await lab('custody.chain', { tube: aTube })).chain;
    assert.deepEqual(before.flags, []);
    tamper(site, "UPDATE specimen_custody SET matched = ?, missing = ? WHERE from_device = 'ra-c2' AND kind = 'pull'",
      canonicalTubes(aTubes.slice(1)), canonicalTubes([aTube]));
    const altered = (await lab('custody.chain', { tube: aTube })).chain;
    assert.ok(altered.flags.includes('bad-signature'), `flags ${altered.flags.join()}`);
    assert.equal(altered.steps.find((s) => s.kind === 'pull')!.receipt, 'invalid');
    const flagged = await lab('custody.flagged', { page: 0, pageSize: 25 });
    assert.equal(flagged.rows[0]!.flags.includes('bad-signature'), true, 'a record that does not verify comes first');
    assert.deepEqual(new Set(flagged.rows.map((r) => r.tube)), new Set([...aTubes, bTube]), 'every tube of the altered record, and the one with a hole');

    // Site → central by file (USB folder): the records arrive as sent and verify there, under the keys they name.
    const central = dirs.store('central', 'central-c');
    const usb = dirs.path('usb-c');
    exportBatches(site, usb);
    assert.ok(importBatches(central, usb).imported.length > 0);
    const atCentral = new CustodyBook(central);
    const chain = atCentral.chain(aTube);
    assert.deepEqual(chain.steps.map((s) => [s.kind, s.from, s.to, s.handover, s.receipt]), [
      ['pull', 'ra-c2', 'mm-c2', 'valid', 'valid'],
      ['delivery', 'mm-c2', 'site-c', 'valid', 'valid'],
    ]);
    assert.deepEqual(chain.flags, [], 'the copy central received is the one the devices signed');
    assert.ok(atCentral.chain(bTube).flags.includes('hole'), 'the missing hand-over is flagged at central too');
    assert.deepEqual(flaggedChains(central, { page: 0, pageSize: 25 }).rows.map((r) => r.tube), [bTube]);
    // A record altered at central fails there as well; one signed with another device's key is not the device's.
    tamper(central, "UPDATE specimen_custody SET handed_at = ? WHERE from_device = 'mm-c2' AND received_at IS NULL", new Date(0).toISOString());
    assert.ok(new CustodyBook(central).chain(aTube).flags.includes('bad-signature'));
  });
});
