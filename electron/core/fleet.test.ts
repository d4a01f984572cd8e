/**
 * Per-device state on the receiver (fleet_device): announcements at contact, push, pull and import; receipts
 * travelling back down; hostile announcements refused; a clock years off flagged but never used to order; the cost
 * of the figures per push measured. Real stores, a real site server on 127.0.0.1 (in this process), real share.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { attentionOrder, CLOCK_HISTORY_KEPT, CLOCK_SKEW_WARN_MS, mergeHeld, toRanges } from '../../shared/fleet.ts';
import { isEdcError } from '../../shared/errors.ts';
import { createBackend } from '../app/backend.ts';
import { callsAs } from '../app/testing.ts';
import { issuePairingCode, revokeDevice } from '../server/auth.ts';
import { startSiteServer, type SiteServer } from '../server/site-server.ts';
import { pull } from '../sync/pull.ts';
import { push } from '../sync/push.ts';
import { pair, readServerLink } from '../sync/server-link.ts';
import { startShare } from '../sync/share.ts';
import { exportBatches } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { applyReceipts, readReceiptsDir } from '../files/receipts.ts';
import { pinPeerKey } from '../files/signing.ts';
import { setTestClockOffset } from './clock.ts';
import { Consumer } from './consumer.ts';
import { clockHistory, listFleet, ownState, recordState } from './fleet.ts';
import { seed } from './seed.ts';
import { readStatus } from './status.ts';
import type { Store } from './store.ts';
import { outgoingWire, pairAt, snapshot, TestDirs } from './testing/fixtures.ts';

const THREE_YEARS_MS = 3 * 365 * 24 * 3600_000;

async function rawPost(url: string, token: string, path: string, body: unknown): Promise<{ status: number; json: { error?: { code: string } } }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify(body)),
  });
  return { status: res.status, json: await res.json() as { error?: { code: string } } };
}

describe('fleet: per-device state and receipts down every hop', () => {
  let dirs: TestDirs;
  let site: Store;
  let server: SiteServer;
  before(async () => {
    dirs = new TestDirs();
    site = dirs.store('site', 'site-f');
    server = await startSiteServer(site, '127.0.0.1', 0);
  });
  after(async () => {
    await server.close();
    dirs.cleanup();
  });
  const pairWith = async (s: Store) => { await pair(s, server.url, issuePairingCode(site, { deviceId: s.deviceId, role: s.role }).code); };
  const row = (id: string) => listFleet(site).find((d) => d.deviceId === id);

  it('ranges: the contiguous mark grows through touching ranges; the rest stays as exceptions', () => {
    assert.deepEqual(toRanges([1, 2, 3, 7, 8, 10]), [[1, 3], [7, 8], [10, 10]]);
    assert.deepEqual(mergeHeld(0, [], [[1, 3], [7, 8]]), { contiguous: 3, extra: [[7, 8]] });
    assert.deepEqual(mergeHeld(3, [[7, 8]], [[4, 6]]), { contiguous: 8, extra: [] });
    assert.deepEqual(mergeHeld(8, [], [[2, 5]]), { contiguous: 8, extra: [] }, 'nothing below the mark changes it');
    assert.deepEqual(mergeHeld(0, [[5, 6]], [[9, 9], [7, 7]]), { contiguous: 0, extra: [[5, 7], [9, 9]] });
  });

  it('a push announces the laptop: made, received, owes, versions, keys, clock; the answer carries what is held', async () => {
    const field = dirs.store('field', 'ra-f1');
    seed(field, 6, { seed: 1 });
    await pairWith(field);
    const made = outgoingWire(field).length;
    await push(field, { batchCount: 7 });
    const d = row('ra-f1')!;
    assert.equal(d.made, made);
    assert.equal(d.received, made);
    assert.equal(d.owes, 0);
    assert.equal(d.role, 'field');
    assert.deepEqual(d.keyIds, dirs.keys.file.keys.map((k) => k.keyId));
    assert.ok(d.clockSkewMs !== null && Math.abs(d.clockSkewMs) < 60_000, 'same machine: no skew to speak of');
    assert.deepEqual(d.flags, []);
    const hops = readStatus(field).outgoing.hops;
    assert.deepEqual(hops, { here: 0, middleman: 0, site: made, central: 0 });
    // Nothing pending: the push is still a contact, and the laptop's row is seen again.
    const before = site.sql.prepare("SELECT count(*) AS n FROM clock_reading WHERE device_id = 'ra-f1'").get() as { n: number };
    assert.equal((await push(field)).sent, 0);
    const after2 = site.sql.prepare("SELECT count(*) AS n FROM clock_reading WHERE device_id = 'ra-f1'").get() as { n: number };
    assert.equal(after2.n, before.n + 1, 'one clock reading per contact');
  });

  it('a laptop pulled by a middleman, with changes the middleman did not get, is owing on the site after the middleman\'s visit', async () => {
    const field = dirs.store('field', 'ra-f2');
    const mm = dirs.store('middleman', 'mm-f2');
    seed(field, 10, { seed: 2 });
    await pairWith(field); // the site knows every device that writes, whoever carries its data
    await pairWith(mm);
    const made = outgoingWire(field).length;
    const share = await startShare(field, { host: '127.0.0.1', port: 0 });
    // The driver's pull is cut after the first page (the RA closes the laptop): the middleman holds 30 of them.
    await assert.rejects(pull(mm, share.url, share.code, { pageSize: 30, onProgress: (p) => { if (p.phase === 'pull' && p.done >= 30) throw new Error('cut'); } }));
    await share.stop();
    const onMm = listFleet(mm).find((d) => d.deviceId === 'ra-f2')!;
    assert.equal(onMm.made, made, 'the share session announced everything it made');
    assert.equal(onMm.owes, made - 30);
    await push(mm);
    const d = row('ra-f2')!;
    assert.equal(d.made, made);
    assert.equal(d.received, 30);
    assert.equal(d.owes, made - 30);
    assert.ok(d.flags.includes('owing'));
    assert.equal(d.lastVia, 'middleman');
    assert.equal(listFleet(site).sort((a, b) => (b.owes ?? 0) - (a.owes ?? 0))[0]!.deviceId, 'ra-f2');
  });

  it('a clock 3 years back is flagged (skew history kept, bounded) and its data still arrives complete and in order', async () => {
    const field = dirs.store('field', 'ra-f3');
    setTestClockOffset(field, -THREE_YEARS_MS);
    seed(field, 8, { seed: 3 });
    const wire = outgoingWire(field);
    assert.ok(wire.every((t) => Date.parse(t.timestamp) < Date.now() - THREE_YEARS_MS + 3600_000), 'its transactions carry its (wrong) clock');
    await pairWith(field);
    await push(field, { batchCount: 9 });
    const d = row('ra-f3')!;
    assert.ok(d.flags.includes('clock-drift'));
    assert.ok(d.clockSkewMs! < -THREE_YEARS_MS + 60_000 && d.clockSkewMs! > -THREE_YEARS_MS - 60_000);
    assert.ok(clockHistory(site, 'ra-f3').length >= 1);
    for (let i = 0; i < CLOCK_HISTORY_KEPT + 3; i++) await push(field);
    assert.equal(clockHistory(site, 'ra-f3').length, CLOCK_HISTORY_KEPT, 'history bounded');
    assert.ok(new Date(d.lastSeenAt!).getTime() > Date.now() - 3600_000, 'last seen by the receiver\'s clock, not the laptop\'s');
    await server.background!.idle();
    new Consumer(site).consume();
    const applied = site.sql.prepare("SELECT applied_seq FROM producer_cursor WHERE producer = 'ra-f3'").get() as { applied_seq: number };
    assert.equal(applied.applied_seq, wire.length, 'applied in producerSeq order up to the last');
    const errors = site.sql.prepare("SELECT count(*) AS n FROM incoming_transaction WHERE producer = 'ra-f3' AND (is_error = 1 OR is_conflict = 1)").get() as { n: number };
    assert.equal(errors.n, 0);
    const ids = (site.sql.prepare("SELECT id FROM incoming_transaction WHERE producer = 'ra-f3' ORDER BY producer_seq").all() as { id: string }[]).map((r) => r.id);
    assert.deepEqual(ids, wire.map((t) => t.id), 'complete and in order');
    const mine = snapshot(field);
    const there = snapshot(site);
    for (const [model, rows] of Object.entries(mine)) for (const r of rows as { id: string }[]) assert.ok((there[model] as { id: string }[]).some((x) => x.id === r.id));
  });

  it('hostile announcements are refused and change nothing: another device\'s name, a field carrying others, a middleman carrying a server, malformed', async () => {
    const field = dirs.store('field', 'ra-f4');
    await pairWith(field);
    const mm = dirs.store('middleman', 'mm-f4');
    await pairWith(mm);
    const token = readServerLink(field.dir).token;
    const mmToken = readServerLink(mm.dir).token;
    const before = JSON.stringify(listFleet(site));
    const lie = { ...ownState(field), deviceId: 'ra-f1', latestSeq: 9999 };
    assert.equal((await rawPost(server.url, token, '/api/v1/contact', { state: lie })).status, 403);
    assert.equal((await rawPost(server.url, token, '/api/v1/contact', { state: { ...ownState(field), role: 'middleman' } })).status, 403);
    const carried = { ...ownState(field), deviceId: 'ra-f1', latestSeq: 9999, seenAt: new Date().toISOString(), skewMs: 0 };
    assert.equal((await rawPost(server.url, token, '/api/v1/contact', { state: ownState(field), carried: [carried] })).status, 403);
    const serverCarried = { ...carried, deviceId: 'site-x', role: 'site' };
    assert.equal((await rawPost(server.url, mmToken, '/api/v1/contact', { state: ownState(mm), carried: [serverCarried] })).status, 400);
    assert.equal((await rawPost(server.url, token, '/api/v1/contact', { state: { ...ownState(field), latestSeq: -1 } })).status, 400);
    assert.equal((await rawPost(server.url, token, '/api/v1/contact', { state: ownState(field), extra: 1 })).status, 400);
    assert.equal((await rawPost(server.url, 'x'.repeat(43), '/api/v1/contact', { state: ownState(field) })).status, 401);
    assert.equal(JSON.stringify(listFleet(site)), before, 'nothing recorded');
  });

  it('a middleman\'s contact may carry 500 laptops (one request under its body cap); 501 is refused and records nothing', async () => {
    const mm = dirs.store('middleman', 'mm-f9');
    await pairWith(mm);
    const token = readServerLink(mm.dir).token;
    const laptop = (i: number) => ({ ...ownState(mm), deviceId: `ra-bulk-${i}`, role: 'field', latestSeq: i, seenAt: new Date().toISOString(), skewMs: 0 });
    const tooMany = Array.from({ length: 501 }, (_, i) => laptop(i));
    assert.equal((await rawPost(server.url, token, '/api/v1/contact', { state: ownState(mm), carried: tooMany })).status, 400);
    assert.equal(row('ra-bulk-1'), undefined);
    const ok = await rawPost(server.url, token, '/api/v1/contact', { state: ownState(mm), carried: tooMany.slice(0, 500), producers: tooMany.slice(0, 500).map((l) => l.deviceId) });
    assert.equal(ok.status, 200);
    assert.equal(listFleet(site).filter((d) => d.deviceId.startsWith('ra-bulk-')).length, 500);
    assert.equal(row('ra-bulk-7')!.made, 7);
  });

  it('receipts down: central\'s file receipts reach the site, the site hands them to the middleman, the middleman to the laptop', async () => {
    const field = dirs.store('field', 'ra-f5');
    const mm = dirs.store('middleman', 'mm-f5');
    const central = dirs.store('central', 'central-f');
    seed(field, 5, { seed: 5 });
    await pairWith(field);
    await pairWith(mm);
    const made = outgoingWire(field).length;
    let share = await startShare(field, { host: '127.0.0.1', port: 0 });
    await pull(mm, share.url, share.code);
    await share.closed;
    assert.deepEqual(readStatus(field).outgoing.hops, { here: 0, middleman: made, site: 0, central: 0 });
    await push(mm);
    await server.background!.idle();
    // Site → central by file (the USB path here; SFTP in the real-process test).
    const usb = dirs.path('usb-f5');
    exportBatches(site, usb);
    const imported = importBatches(central, usb);
    assert.ok(imported.imported.length > 0);
    const onCentral = listFleet(central).find((d) => d.deviceId === 'ra-f5')!;
    assert.equal(onCentral.received, made);
    assert.equal(onCentral.atCentral, made);
    assert.equal(onCentral.made, made, 'the site\'s manifest carried what the laptop announced');
    const site0 = row('ra-f5')!;
    assert.equal(site0.atCentral, null, 'not acknowledged yet');
    pinPeerKey(site, central.deviceId, central.signingKey.publicKey, 'registered');
    const r = applyReceipts(site, await readReceiptsDir(usb), { via: 'usb' });
    assert.ok(r.acknowledged.length > 0);
    assert.equal(row('ra-f5')!.atCentral, made);
    // The middleman's next contact learns it; its next visit hands it to the laptop.
    await push(mm);
    assert.equal(listFleet(mm).find((d) => d.deviceId === 'ra-f5')!.atCentral, made);
    share = await startShare(field, { host: '127.0.0.1', port: 0 });
    await pull(mm, share.url, share.code);
    await share.closed;
    assert.deepEqual(readStatus(field).outgoing.hops, { here: 0, middleman: 0, site: 0, central: made });
  });

  it('cost per push: the figures add one row update per producer in the batch, whatever the history', async () => {
    const field = dirs.store('field', 'ra-f6');
    seed(field, 120, { seed: 6 });
    await pairWith(field);
    const t0 = process.hrtime.bigint();
    const r = await push(field, { batchCount: 100 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const batches = Math.ceil(r.sent / 100);
    // The state work per batch: the fleet statements alone, timed on the site store.
    const { recordReceived, holdingFor } = await import('./fleet.ts');
    const n = 2000;
    const t1 = process.hrtime.bigint();
    site.sql.transaction(() => { for (let i = 0; i < n; i++) { recordReceived(site, 'ra-f6', r.sent + i, 'push'); holdingFor(site, 'ra-f6'); } });
    const perBatchUs = Number(process.hrtime.bigint() - t1) / 1e3 / n;
    console.log(`push of ${r.sent} transactions in ${batches} batches: ${ms.toFixed(0)} ms; fleet figures per batch and producer: ${perBatchUs.toFixed(1)} µs`);
    assert.equal(row('ra-f6')!.received, r.sent + n - 1);
  });

  it('an unpaired token-less device cannot announce; a revoked one is listed as revoked', async () => {
    const field = dirs.store('field', 'ra-f7');
    await pairWith(field);
    const { revokeDevice } = await import('../server/auth.ts');
    revokeDevice(site, 'ra-f7');
    await assert.rejects(push(field), (e) => isEdcError(e, 'AUTH_INVALID'));
    assert.deepEqual(row('ra-f7')!.flags, ['revoked']);
  });

  it('the Devices list is filtered, ordered and paged in SQL: a page at a time, the count and the owing over all of it', async () => {
    const s = dirs.store('site', 'site-fp');
    const heard = (id: string, o: { latestSeq?: number; appVersion?: string; keyIds?: string[] } = {}, skew = 0, daysAgo = 0) =>
      recordState(s, { ...ownState(s), deviceId: id, role: 'field', latestSeq: 0, ...o }, 'contact', new Date(Date.now() - daysAgo * 24 * 3600_000), skew);
    const pad = (i: number) => String(i).padStart(2, '0');
    for (let i = 0; i < 40; i++) heard(`ra-p${pad(i)}`, {}, 0, i < 5 ? 3 : 0); // five of them last seen three days ago
    heard('ra-owe-small', { latestSeq: 3 });
    heard('ra-owe-big', { latestSeq: 30 });
    heard('ra-old', { appVersion: '0.0.1' });
    heard('ra-drift', {}, CLOCK_SKEW_WARN_MS + 60_000);
    heard('ra-nokey', { keyIds: [] });
    pairAt(s, { deviceId: 'ra-quiet' }, { deviceId: 'ra-gone' }); // paired, never heard from
    revokeDevice(s, 'ra-gone');
    const backend = createBackend({ dataDir: s.dir, host: 'web', emit: () => {}, store: s });
    const api = callsAs(backend, { username: 'dm', role: 'data-manager' });
    const ids = (r: { rows: { deviceId: string }[] }) => r.rows.map((d) => d.deviceId);

    // Attention first, 20 a page; the count and the owing are of all 47, not of the page.
    const first = await api.call('devices.list', { pageSize: 20 });
    assert.deepEqual([first.total, first.owing, first.rows.length], [47, 2, 20]);
    assert.deepEqual(ids(first).slice(0, 6), ['ra-owe-big', 'ra-owe-small', 'ra-nokey', 'ra-old', 'ra-drift', 'ra-gone']);
    assert.deepEqual(first.rows[2]!.flags, ['missing-key']);
    const pages = [first, await api.call('devices.list', { pageSize: 20, page: 1 }), await api.call('devices.list', { pageSize: 20, page: 2 })];
    assert.deepEqual(pages.map((p) => p.rows.length), [20, 20, 7]);
    // The pages together are the whole list in the order the shared rule gives (attentionOrder), each device once.
    assert.deepEqual(pages.flatMap(ids), listFleet(s).sort(attentionOrder).map((d) => d.deviceId));
    assert.equal(new Set(pages.flatMap(ids)).size, 47);

    // By a column, either way: the order holds across the pages.
    assert.deepEqual(ids(await api.call('devices.list', { sort: 'made', desc: true, pageSize: 2 })), ['ra-owe-big', 'ra-owe-small']);
    const byId = await api.call('devices.list', { sort: 'deviceId', pageSize: 20, page: 2 });
    assert.deepEqual(ids(byId), ['ra-p34', 'ra-p35', 'ra-p36', 'ra-p37', 'ra-p38', 'ra-p39', 'ra-quiet']);
    assert.deepEqual(ids(await api.call('devices.list', { sort: 'clock', desc: true, pageSize: 1 })), ['ra-drift']);

    // Today only: those seen since midnight (not the five from three days ago, not the two never heard from).
    const today = await api.call('devices.list', { today: true, pageSize: 100 });
    assert.deepEqual([today.total, today.rows.length, today.owing], [40, 40, 2]);
    assert.ok(!ids(today).includes('ra-p00') && !ids(today).includes('ra-quiet'));
    assert.equal(await api.fail('devices.list', { pageSize: 101 }), 'INPUT_INVALID');
    await backend.close();
  });
});
