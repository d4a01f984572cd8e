/**
 * REST sync against real server processes on 127.0.0.1 and real stores: field → site, field → middleman → site,
 * kill -9 of the server and of the client mid-push, duplicate batches, a middleman pull cut and resumed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushResponseSchema } from '../../shared/api.ts';
import { isEdcError } from '../../shared/errors.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { outgoingWire, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { freePort, pairWithSite, spawnCli, startProxy, startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { HttpClient } from './client.ts';
import { pull } from './pull.ts';
import { push } from './push.ts';
import { readServerLink } from './server-link.ts';
import { startShare, type Share } from './share.ts';

/** A site store on disk (closed: the server process owns it), its server, and paired devices. */
async function siteWithServer(dirs: TestDirs, id: string, port = 0): Promise<{ dir: string; server: ServerProc }> {
  const site = dirs.store('site', id);
  site.close();
  return { dir: site.dir, server: await startServer(site.dir, port) };
}

async function pairWith(store: Store, siteDir: string, url: string): Promise<void> {
  await pairWithSite(store, siteDir, url);
}

function siteSnapshot(dir: string) {
  const s = Store.open(dir);
  try {
    return { snap: snapshot(s), ids: (s.sql.prepare('SELECT id FROM incoming_transaction').all() as { id: string }[]).map((r) => r.id) };
  } finally {
    s.close();
  }
}

describe('REST sync', () => {
  let dirs: TestDirs;
  const servers: ServerProc[] = [];
  const shares: Share[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  before(() => { dirs = new TestDirs(); });
  after(async () => {
    for (const c of cleanups) await c();
    for (const s of shares) await s.stop();
    for (const s of servers) await s.kill('SIGKILL');
    dirs.cleanup();
  });

  it('field → site: pushed, acknowledged, consumed in the background; the site holds exactly the field\'s records', async () => {
    const { dir, server } = await siteWithServer(dirs, 'site-a');
    servers.push(server);
    const field = dirs.store('field', 'ra-a1');
    seed(field, 20, { seed: 1 });
    await pairWith(field, dir, server.url);
    const progress: number[] = [];
    const r = await push(field, { batchCount: 60, onProgress: (p) => progress.push(p.done) });
    const total = outgoingWire(field).length;
    assert.equal(r.accepted, total);
    assert.equal(r.duplicates, 0);
    assert.ok(progress.length >= Math.ceil(total / 60), 'progress per batch');
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
    assert.ok(readStatus(field).lastSync);
    await waitForStore(dir, (s) => s.incoming.consumed === total);
    const site = siteSnapshot(dir);
    assert.deepEqual(site.snap, snapshot(field));
    const again = await push(field);
    assert.equal(again.sent, 0, 'nothing pending: nothing sent');
  });

  it('field → middleman → site, then the field pushes directly: the site counts duplicates, totals exact', async () => {
    const { dir, server } = await siteWithServer(dirs, 'site-b');
    servers.push(server);
    const field = dirs.store('field', 'ra-b1');
    const middleman = dirs.store('middleman', 'mm-b1');
    seed(field, 15, { seed: 2 });
    const total = outgoingWire(field).length;
    await pairWith(field, dir, server.url);
    await pairWith(middleman, dir, server.url);
    const share = await startShare(field, { host: '127.0.0.1', port: 0 });
    shares.push(share);
    const pulled = await pull(middleman, share.url, share.code, { pageSize: 40 });
    assert.equal(await share.closed, 'done');
    assert.equal(pulled.received, total);
    assert.equal(pulled.consumed.applied, total, 'the middleman applied them (requisitions available to reconcile)');
    assert.deepEqual(snapshot(middleman), snapshot(field));
    const fs1 = readStatus(field).outgoing;
    assert.deepEqual([fs1.pendingServer, fs1.pendingMiddleman], [total, 0], 'field: waiting for the server, not for a middleman');
    const forwarded = await push(middleman);
    assert.equal(forwarded.accepted, total);
    await waitForStore(dir, (s) => s.incoming.consumed === total);
    const direct = await push(field);
    assert.equal(direct.duplicates, total);
    assert.equal(direct.accepted, 0);
    assert.equal(readStatus(field).outgoing.pendingServer, 0, 'the laptop marks them delivered');
    const site = siteSnapshot(dir);
    assert.equal(site.ids.length, total);
    assert.deepEqual(site.snap, snapshot(field));
    const s = Store.open(dir);
    const vias = s.sql.prepare('SELECT received_via, count(*) AS n FROM incoming_transaction GROUP BY received_via').all();
    s.close();
    assert.deepEqual(vias, [{ received_via: 'middleman', n: total }]);
  });

  it('kill -9 of the server during a push, restart, push again: every transaction exactly once', async () => {
    const port = await freePort();
    const { dir, server } = await siteWithServer(dirs, 'site-c', port);
    const field = dirs.store('field', 'ra-c1');
    seed(field, 100, { seed: 3 });
    const total = outgoingWire(field).length;
    await pairWith(field, dir, server.url);
    let killed = false;
    await assert.rejects(push(field, {
      batchCount: 40, attempts: 1,
      onProgress: (p) => {
        if (!killed && p.done >= 200) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      },
    }), (e) => isEdcError(e, 'SERVER_UNREACHABLE'));
    await server.exited;
    const pendingAfterKill = readStatus(field).outgoing.pendingServer;
    assert.ok(pendingAfterKill > 0 && pendingAfterKill < total);
    const restarted = await startServer(dir, port);
    servers.push(restarted);
    const r = await push(field, { batchCount: 40 });
    assert.equal(r.sent, pendingAfterKill);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
    await waitForStore(dir, (s) => s.incoming.consumed === total && s.incoming.pending === 0);
    const site = siteSnapshot(dir);
    assert.equal(site.ids.length, total);
    assert.equal(new Set(site.ids).size, total);
    assert.deepEqual(site.snap, snapshot(field));
  });

  it('a push client killed mid-push resumes with no loss and no duplicate; a re-sent batch is all duplicates', async () => {
    const { dir, server } = await siteWithServer(dirs, 'site-d');
    servers.push(server);
    const field = dirs.store('field', 'ra-d1');
    seed(field, 100, { seed: 4 });
    const total = outgoingWire(field).length;
    const box: { client?: ReturnType<typeof spawnCli> } = {};
    // Requests 1–2 are pairing (health, pair), 3 the push's contact, 4 its pre-flight; the client dies while the server commits its 5th push batch.
    const proxy = await startProxy(server.url, async (n) => {
      if (n === 9) await box.client!.kill('SIGKILL');
    });
    cleanups.push(() => proxy.close());
    await pairWith(field, dir, proxy.url);
    field.close();
    box.client = spawnCli(['--data', field.dir, 'push', '--batch-size', '25']);
    assert.equal(await box.client.exited, null, 'killed by the signal');
    const reopened = dirs.track(Store.open(field.dir));
    const partial = readStatus(reopened).outgoing.pendingServer;
    // Two batches are in flight at a time: when the 5th push request reached the server, 3 or 4 answers had arrived.
    const acked = (total - partial) / 25;
    assert.ok(acked === 3 || acked === 4, `whole batches acknowledged before the client died (${acked})`);
    const r = await push(reopened);
    assert.equal(r.accepted + r.duplicates, partial);
    assert.ok(r.duplicates >= 25 && r.duplicates <= 50, `the batches in flight were committed by the server and are counted once (${r.duplicates})`);
    await waitForStore(dir, (s) => s.incoming.consumed === total);
    const link = readServerLink(reopened.dir);
    const http = new HttpClient({ baseURL: server.url, token: link.token });
    const batch = outgoingWire(reopened).slice(0, 30);
    const resend = await http.post('/api/v1/push', { transactions: batch }, pushResponseSchema);
    assert.equal(resend.data.accepted.length, 0);
    assert.equal(resend.data.duplicates.length, 30);
    assert.equal(resend.data.highWater['ra-d1'], total);
    const site = siteSnapshot(dir);
    assert.equal(site.ids.length, total);
    assert.deepEqual(site.snap, snapshot(reopened));
  });

  it('SIGTERM stops the server cleanly after what it acknowledged; a restart consumes anything left', async () => {
    const { dir, server } = await siteWithServer(dirs, 'site-f');
    const field = dirs.store('field', 'ra-f1');
    seed(field, 30, { seed: 6 });
    const total = outgoingWire(field).length;
    await pairWith(field, dir, server.url);
    await push(field);
    assert.equal(await server.kill('SIGTERM'), 0, 'exit code 0');
    assert.ok(server.stderr.some((l) => l.startsWith('SIGTERM: stopping')));
    const restarted = await startServer(dir);
    servers.push(restarted);
    await waitForStore(dir, (st) => st.incoming.consumed === total && st.incoming.pending === 0);
    assert.equal(siteSnapshot(dir).ids.length, total);
  });

  it('a middleman pull cut mid-page resumes: everything pulled once, acknowledged, applied', async () => {
    const field = dirs.store('field', 'ra-e1');
    seed(field, 80, { seed: 5 });
    const total = outgoingWire(field).length;
    const mm = dirs.store('middleman', 'mm-e1');
    mm.close();
    const box: { puller?: ReturnType<typeof spawnCli> } = {};
    let acks = 0;
    // The puller dies while its third acknowledgement is being recorded: page 3 is stored on the middleman and
    // marked on the laptop, but the middleman never learns that its ack arrived.
    const share = await startShare(field, { host: '127.0.0.1', port: 0, onAck: () => { if (++acks === 3) box.puller!.child.kill('SIGKILL'); } });
    shares.push(share);
    box.puller = spawnCli(['--data', mm.dir, 'pull', '--from', share.url, '--code', share.code, '--page-size', '20']);
    assert.equal(await box.puller.exited, null);
    const middleman = dirs.track(Store.open(mm.dir));
    const held = readStatus(middleman).incoming.total;
    assert.equal(held, 60, 'three pages held when cut');
    const r = await pull(middleman, share.url, share.code, { pageSize: 20 });
    assert.equal(await share.closed, 'done');
    assert.equal(r.received, total - held);
    assert.equal(r.duplicates, 20, 'the page whose ack was cut is fetched again, counted once');
    assert.equal(readStatus(middleman).incoming.total, total);
    assert.equal(readStatus(middleman).incoming.consumed, total);
    assert.equal(readStatus(field).outgoing.pendingMiddleman, 0, 'every transaction acknowledged to the laptop');
    assert.deepEqual(snapshot(middleman), snapshot(field));
  });
});
