/**
 * Site review at scale, through `dispatch` over real stores and a real site server process: push sessions from two
 * laptops (each push with its session header is one row however many requests it took; an older device without
 * the header is grouped by its timing), a file import, a middleman's pull, problems in one session, pages, the
 * "with problems" and device filters, identical reasons as one line, and the transaction inspector with and
 * without the decrypt permission. Then the query at scale: 20,000 transactions in 400 sessions.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callsAs } from './testing.ts';
import type { CallName } from '../../shared/channels.ts';
import type { WireEnvelope } from '../../shared/envelope.ts';
import { Consumer } from '../core/consumer.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { uuidv7 } from '../core/ids.ts';
import { seed } from '../core/seed.ts';
import { deviceSummaries, listSessions, PROBLEM, reasonGroups } from '../core/review.ts';
import type { Store } from '../core/store.ts';
import { outgoingWire, pairAt, TestDirs } from '../core/testing/fixtures.ts';
import { pairWithSite, pushAsOlderApp, startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { exportBatches } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { applyReceipts, readReceiptsDir } from '../files/receipts.ts';
import { pinPeerKey } from '../files/signing.ts';
import { push } from '../sync/push.ts';
import { readServerLink } from '../sync/server-link.ts';
import { createBackend, type Principal } from './backend.ts';
import { dispatch } from './dispatch.ts';

const LAB: Principal = { username: 'lab', role: 'lab-assistant' };
const MANAGER: Principal = { username: 'dm', role: 'data-manager' };

const client = callsAs;

describe('site review: sessions, filters, grouped reasons, inspector', () => {
  let dirs: TestDirs;
  let site: ServerProc;
  let siteDir: string;
  let ra1: Store;
  let ra2: Store;
  let old: Store;
  let rotated: KeySet;

  before(async () => {
    dirs = new TestDirs();
    const s = dirs.store('site', 'site-01');
    s.close();
    siteDir = s.dir;
    site = await startServer(siteDir);
    ra1 = dirs.store('field', 'ra-01');
    ra2 = dirs.store('field', 'ra-02');
    old = dirs.store('field', 'ra-old');
    for (const d of [ra1, ra2, old]) await pairWithSite(d, siteDir, site.url);
  });
  after(async () => {
    await site.kill();
    dirs.cleanup();
  });

  it('pushes: one session per push whatever its requests; an older device grouped by timing', async () => {
    seed(ra1, 6);
    const first = await push(ra1, { batchCount: 7 }); // several requests, one session
    assert.ok(first.sent > 14, `${first.sent} sent`);
    seed(ra1, 2, { seed: 2 });
    await push(ra1, { batchCount: 7 });
    seed(ra2, 3);
    await push(ra2, { batchCount: 5 });
    // ra-02 then rotates its key (the site does not have the new one yet); an older app version pushes anyway (today's
    // keeps them back at pre-flight): those fail to apply at the site.
    rotated = KeySet.parse(readFileSync(path.join(ra2.keyDir, KEYSET_FILE), 'utf8'), 'test').rotated();
    writeKeySetFile(path.join(ra2.keyDir, KEYSET_FILE), rotated);
    ra2.reloadKeys();
    seed(ra2, 2, { seed: 3 });
    await pushAsOlderApp(ra2);
    // An older laptop: no session header, two requests a moment apart.
    seed(old, 2);
    const wire = outgoingWire(old);
    const token = readServerLink(old.dir).token;
    const post = (txs: WireEnvelope[]) => fetch(`${site.url}/api/v1/push`, { method: 'POST', body: JSON.stringify({ transactions: txs }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    assert.equal((await post(wire.slice(0, 4))).status, 200);
    assert.equal((await post(wire.slice(4))).status, 200);
    // A bad session header is refused, not guessed at.
    const bad = await fetch(`${site.url}/api/v1/push`, { method: 'POST', body: JSON.stringify({ transactions: wire.slice(0, 1) }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-edc-push-session': 'not-a-uuid' } });
    assert.equal(bad.status, 400);
    await waitForStore(siteDir, (st) => st.incoming.pending === 0);
  });

  it('a file import and a middleman pull are a session each', async () => {
    const ra3 = dirs.store('field', 'ra-03');
    await pairWithSite(ra3, siteDir, site.url); // paired, then its data came on a USB stick
    seed(ra3, 2);
    const usb = dirs.path('usb');
    exportBatches(ra3, usb);
    const backend = createBackend({ dataDir: siteDir, host: 'web', emit: () => {} });
    try {
      const imported = importBatches(backend.store()!, usb);
      assert.equal(imported.imported.length, 1);
    } finally {
      await backend.close();
    }
    // The middleman's pull takes pages under one batch id (sync/pull.ts): one session, kind "pull".
    const mm = dirs.store('middleman', 'mm-01');
    const pullBatch = uuidv7();
    const consumer = new Consumer(mm);
    const all = outgoingWire(ra1);
    consumer.ingestValid(all.slice(0, 10), 'rest', pullBatch);
    consumer.ingestValid(all.slice(10), 'rest', pullBatch);
    const mmApi = client(createBackend({ dataDir: mm.dir, host: 'desktop', emit: () => {}, store: mm }), { username: 'driver', role: null });
    const list = await mmApi.call('batches.list', {});
    assert.deepEqual(list.sessions.map((x) => [x.kind, x.device, x.requests, x.total]), [['pull', 'ra-01', 2, all.length]]);
  });

  it('the site lists sessions newest first, pages them in SQL, filters problems and devices', async () => {
    const backend = createBackend({ dataDir: siteDir, host: 'web', emit: () => {} });
    try {
      const lab = client(backend, LAB);
      const all = await lab.call('batches.list', { pageSize: 100 });
      const rows = all.sessions.map((x) => `${x.kind}:${x.device}:${x.requests}`);
      // Newest first: the file, the old device (2 requests, one session), ra-02 ×2, ra-01 ×2.
      assert.equal(all.total, 6, rows.join(' '));
      assert.deepEqual(all.sessions.map((x) => x.device), ['ra-03', 'ra-old', 'ra-02', 'ra-02', 'ra-01', 'ra-01']);
      assert.equal(all.sessions[0]!.kind, 'file');
      assert.match(all.sessions[0]!.label!, /ra-03/);
      assert.equal(all.sessions[1]!.requests, 2, 'the older device\'s two requests are one session');
      assert.ok(all.sessions[5]!.requests >= 3, 'the first push took several requests, shown as one row');
      assert.deepEqual([...all.sessions.map((x) => x.lastAt)].sort().reverse(), all.sessions.map((x) => x.lastAt));
      // Pages.
      const p0 = await lab.call('batches.list', { page: 0, pageSize: 4 });
      const p1 = await lab.call('batches.list', { page: 1, pageSize: 4 });
      assert.deepEqual([p0.total, p0.sessions.length, p1.sessions.length], [6, 4, 2]);
      assert.deepEqual([...p0.sessions, ...p1.sessions].map((x) => x.id), all.sessions.map((x) => x.id));
      // Problems: only ra-02's second push.
      const failing = all.sessions[2]!;
      assert.ok(failing.error > 0 && failing.device === 'ra-02', JSON.stringify(failing));
      assert.equal(all.errors, failing.error);
      assert.equal(all.problemSessions, 1);
      const problems = await lab.call('batches.list', { problems: true });
      assert.deepEqual([problems.total, problems.sessions.map((x) => x.id)], [1, [failing.id]]);
      // Per device.
      const byDevice = await lab.call('batches.list', { device: 'ra-01' });
      assert.deepEqual([byDevice.total, byDevice.sessions.every((x) => x.device === 'ra-01')], [2, true]);
      const summary = Object.fromEntries(all.devices.map((d) => [d.device, d]));
      assert.deepEqual(Object.keys(summary).sort(), ['ra-01', 'ra-02', 'ra-03', 'ra-old']);
      assert.equal(summary['ra-02']!.sessions, 2);
      assert.equal(summary['ra-02']!.problems, failing.error + failing.blocked);
      assert.equal(summary['ra-01']!.problems, 0);
      // A session's requests and its transactions, paged, problems only.
      const reqs = await lab.call('batches.requests', { sessionId: all.sessions[5]!.id });
      assert.equal(reqs.requests.length, all.sessions[5]!.requests);
      assert.equal(reqs.requests.reduce((n, r) => n + r.total, 0), all.sessions[5]!.total);
      const txPage = await lab.call('batches.transactions', { sessionId: all.sessions[5]!.id, page: 1, pageSize: 5 });
      assert.deepEqual([txPage.total, txPage.rows.length], [all.sessions[5]!.total, 5]);
      const oneRequest = await lab.call('batches.transactions', { sessionId: all.sessions[5]!.id, batchId: reqs.requests[0]!.batchId, pageSize: 200 });
      assert.equal(oneRequest.total, reqs.requests[0]!.total);
      const failed = await lab.call('batches.transactions', { sessionId: failing.id, onlyProblems: true, pageSize: 200 });
      assert.equal(failed.total, failing.error + failing.blocked + failing.deferred);
      assert.ok(failed.rows.every((r) => r.state !== 'consumed'));
      assert.ok(failed.rows.some((r) => r.code === 'KEY_UNKNOWN'));
      assert.equal(await lab.fail('batches.list', { pageSize: 1000 }), 'INPUT_INVALID');
      assert.equal(await lab.fail('batches.transactions', { sessionId: 'x; DROP TABLE' }), 'INPUT_INVALID');
    } finally {
      await backend.close();
    }
  });

  it('identical reasons are one line with a count and the devices; the inspector hides content from the lab assistant', async () => {
    const backend = createBackend({ dataDir: siteDir, host: 'web', emit: () => {} });
    try {
      const lab = client(backend, LAB);
      const { groups } = await lab.call('batches.reasons', {});
      const key = groups.find((g) => g.code === 'KEY_UNKNOWN')!;
      assert.ok(key, JSON.stringify(groups));
      const failedCount = (await lab.call('batches.list', {})).errors;
      assert.equal(key.count, failedCount, 'every KEY_UNKNOWN failure is on one line');
      assert.deepEqual(key.producers, ['ra-02']);
      assert.equal(groups.filter((g) => g.code === 'KEY_UNKNOWN').length, 1);

      const inspected = await lab.call('transactions.inspect', { id: key.sampleId });
      assert.equal(inspected.envelope.producer, 'ra-02');
      assert.equal(inspected.state, 'error');
      assert.equal(inspected.code, 'KEY_UNKNOWN');
      assert.equal(inspected.contentHidden, true);
      assert.equal(inspected.content, null);
      assert.deepEqual(inspected.hops.map((h) => h.step), ['made', 'received', 'failed']);
      assert.equal(inspected.hops[1]!.device, 'ra-02');
      // A data manager may decrypt; an applied one shows its content and its history row.
      const dm = client(backend, MANAGER);
      const ok = (await dm.call('batches.transactions', { sessionId: (await dm.call('batches.list', { device: 'ra-01' })).sessions[1]!.id, pageSize: 1 })).rows[0]!;
      const opened = await dm.call('transactions.inspect', { id: ok.id });
      assert.equal(opened.contentHidden, false);
      assert.equal(opened.envelope.txName, 'edc.subject');
      assert.ok(typeof (opened.content!.record as Record<string, unknown>).firstName === 'string');
      assert.deepEqual(opened.hops.map((h) => h.step), ['made', 'received', 'applied']);
      assert.equal(opened.history.filter((h) => h.thisChange).length, 1);
      assert.ok(opened.history[0]!.changes && 'first_name' in opened.history[0]!.changes);
      assert.ok(typeof opened.history[0]!.changes.first_name![1] === 'string' && !String(opened.history[0]!.changes.first_name![1]).startsWith('enc'), 'PII decrypted');
      const labView = await lab.call('transactions.inspect', { id: ok.id });
      assert.deepEqual([labView.content, labView.history[0]!.changes, labView.history[0]!.fields > 0], [null, null, true]);
      // The undecryptable one: a data manager sees why.
      assert.equal((await dm.call('transactions.inspect', { id: key.sampleId })).contentError, 'KEY_UNKNOWN');
      assert.equal(await lab.fail('transactions.inspect', { id: '00000000-0000-7000-8000-000000000000' }), 'TRANSACTION_UNKNOWN');
      assert.equal(await lab.fail('transactions.inspect', { id: 'nope' }), 'INPUT_INVALID');

      // The fix, then retry: no problems left, the session shows applied.
      writeKeySetFile(path.join(siteDir, 'keys', KEYSET_FILE), KeySet.parse(readFileSync(path.join(siteDir, 'keys', KEYSET_FILE), 'utf8'), 'site').merged(rotated));
      await lab.call('batches.retry', {});
      // The site server's own background consumer runs beside this retry (it too sees the new key set): what the
      // retry unblocked may be applied by either, so wait until both are done (bounded; nothing about time asserted).
      let after = await lab.call('batches.list', { problems: true });
      for (let i = 0; i < 150 && after.total > 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        after = await lab.call('batches.list', { problems: true });
      }
      assert.deepEqual([after.total, after.errors, (await lab.call('batches.reasons', {})).groups.length], [0, 0, 0]);
    } finally {
      await backend.close();
    }
  });

  it('the inspector follows a change on: written to a file at the site, received at central, the receipt back', async () => {
    const backend = createBackend({ dataDir: siteDir, host: 'web', emit: () => {} });
    const central = dirs.store('central', 'central-01');
    central.reloadKeys();
    try {
      const siteStore = backend.store()!;
      writeKeySetFile(path.join(central.keyDir, KEYSET_FILE), KeySet.parse(readFileSync(path.join(siteDir, 'keys', KEYSET_FILE), 'utf8'), 'site'));
      central.reloadKeys();
      const usb = dirs.path('usb-central');
      assert.ok(exportBatches(siteStore, usb).batches.length > 0);
      const lab = client(backend, LAB);
      const id = (await lab.call('batches.transactions', { sessionId: (await lab.call('batches.list', { device: 'ra-01' })).sessions[0]!.id, pageSize: 1 })).rows[0]!.id;
      assert.deepEqual((await lab.call('transactions.inspect', { id })).hops.map((h) => h.step), ['made', 'received', 'applied', 'exported']);
      assert.ok(importBatches(central, usb).imported.length > 0);
      pinPeerKey(siteStore, central.deviceId, central.signingKey.publicKey, 'registered');
      assert.ok(applyReceipts(siteStore, await readReceiptsDir(usb), { via: 'usb' }).acknowledged.length > 0);
      const atSite = await lab.call('transactions.inspect', { id });
      assert.deepEqual(atSite.hops.map((h) => h.step), ['made', 'received', 'applied', 'exported', 'atCentral']);
      assert.match(atSite.hops[3]!.detail!, /^site-01_/);
      // At central: made on the laptop, received in the site's file, applied; the history came along.
      const centralApi = client(createBackend({ dataDir: central.dir, host: 'web', emit: () => {}, store: central }), MANAGER);
      const atCentral = await centralApi.call('transactions.inspect', { id });
      assert.deepEqual(atCentral.hops.map((h) => [h.step, h.device]), [['made', 'ra-01'], ['received', 'site-01'], ['applied', 'central-01']]);
      assert.match(atCentral.hops[1]!.detail!, /\.jsonl\.gz$/);
      assert.ok(atCentral.content && atCentral.history.some((h) => h.thisChange));
      const sessions = await centralApi.call('batches.list', {});
      assert.ok(sessions.sessions.every((x) => x.kind === 'file' && x.device === 'site-01'));
    } finally {
      await backend.close();
    }
  });
});

describe('site review at scale', () => {
  it('20,000 transactions in 400 sessions from 40 devices: a page, the problem filter and grouped reasons stay fast', async () => {
    const dirs = new TestDirs();
    try {
      const siteStore = dirs.store('site', 'site-big');
      const laptop = dirs.store('field', 'ra-big');
      seed(laptop, 1);
      const template = outgoingWire(laptop)[0]!;
      const consumer = new Consumer(siteStore);
      // 40 laptops paired before device keys (no key on record): the copies of one envelope below are taken as theirs.
      pairAt(siteStore, ...Array.from({ length: 40 }, (_, i) => ({ deviceId: `ra-${String(i).padStart(2, '0')}` })));
      const t0 = performance.now();
      let seq = 0;
      for (let s = 0; s < 400; s++) {
        const producer = `ra-${String(s % 40).padStart(2, '0')}`;
        const envs: WireEnvelope[] = [];
        for (let i = 0; i < 50; i++) envs.push({ ...template, id: uuidv7(), producer, producerSeq: ++seq });
        consumer.ingestValid(envs, 'rest', uuidv7(), {}, { id: uuidv7(), via: 'rest', device: producer });
      }
      // A tenth fail with one reason, a few with another.
      siteStore.sql.prepare("UPDATE incoming_transaction SET is_error = 1, error = 'KEY_UNKNOWN: key k9. Import it.' WHERE producer_seq % 10 = 0").run();
      siteStore.sql.prepare("UPDATE incoming_transaction SET is_error = 1, error = 'DECRYPT_FAILED: tag. Ask again.' WHERE producer_seq % 1000 = 1").run();
      // As after a consume: the rest applied, every producer's cursor past its changes.
      siteStore.sql.prepare("UPDATE incoming_transaction SET is_consumed = 1, consumed_at = received_at WHERE is_error = 0").run();
      siteStore.sql.prepare('UPDATE producer_cursor SET applied_seq = (SELECT max(producer_seq) FROM incoming_transaction i WHERE i.producer = producer_cursor.producer)').run();
      siteStore.sql.prepare('ANALYZE').run();
      const ingestMs = performance.now() - t0;
      const time = (fn: () => unknown) => {
        fn();
        const s = performance.now();
        for (let i = 0; i < 5; i++) fn();
        return (performance.now() - s) / 5;
      };
      const page = time(() => listSessions(siteStore, { page: 3, pageSize: 25, problems: false }));
      const problems = time(() => listSessions(siteStore, { page: 0, pageSize: 25, problems: true }));
      const device = time(() => listSessions(siteStore, { page: 0, pageSize: 25, problems: false, device: 'ra-07' }));
      const reasons = time(() => reasonGroups(siteStore));
      const devices = time(() => deviceSummaries(siteStore));
      const r = listSessions(siteStore, { page: 0, pageSize: 25, problems: true });
      assert.equal(r.total, 400);
      assert.equal(r.sessions.length, 25);
      assert.equal(r.sessions[0]!.total, 50);
      const g = reasonGroups(siteStore);
      assert.deepEqual(g.map((x) => [x.code, x.count]), [['KEY_UNKNOWN', 2000], ['DECRYPT_FAILED', 20]]);
      assert.equal(g[0]!.producers.length, 40);
      const backend = createBackend({ dataDir: siteStore.dir, host: 'web', emit: () => {}, store: siteStore });
      const call = async (name: CallName, input: unknown) => {
        const r = await dispatch(backend, LAB, name, input);
        assert.ok(r.ok, JSON.stringify(r));
      };
      const timeAsync = async (fn: () => Promise<unknown>) => {
        await fn();
        const s = performance.now();
        for (let i = 0; i < 5; i++) await fn();
        return (performance.now() - s) / 5;
      };
      const listCall = await timeAsync(() => call('batches.list', { page: 5, pageSize: 20 }));
      const listProblems = await timeAsync(() => call('batches.list', { problems: true, device: 'ra-13' }));
      const txCall = await timeAsync(() => call('batches.transactions', { sessionId: r.sessions[0]!.id, onlyProblems: true }));
      const reasonsCall = await timeAsync(() => call('batches.reasons', {}));
      if (siteStore.sql.dialect === 'sqlite') { // the query plan is SQLite's; PostgreSQL's planner is its own
        const plan = (siteStore.sql.prepare(`EXPLAIN QUERY PLAN SELECT session_id FROM incoming_transaction WHERE ${PROBLEM}`).all() as { detail: string }[]).map((x) => x.detail).join('; ');
        assert.match(plan, /incoming_problem_session/, plan);
      }
      console.log(`# review at scale: ingest ${ingestMs.toFixed(0)} ms; page ${page.toFixed(1)} ms, problems ${problems.toFixed(1)} ms, device ${device.toFixed(1)} ms, reasons ${reasons.toFixed(1)} ms, devices ${devices.toFixed(1)} ms`);
      console.log(`# review at scale through dispatch: batches.list ${listCall.toFixed(1)} ms, with problems + device ${listProblems.toFixed(1)} ms, a session's problems ${txCall.toFixed(1)} ms, batches.reasons ${reasonsCall.toFixed(1)} ms`);
      // Timings are reported above, never asserted (a busy 2-core machine makes any threshold flaky); the plans are.
    } finally {
      dirs.cleanup();
    }
  });
});
