/**
 * The stalled-laptop case end to end over REST (real site server process, real stores): a visit damaged on the way
 * fails at the site, its children are blocked, later pushes keep applying; the site's answer asks for it again, the
 * laptop resends it from its outgoing rows, the good copy replaces the bad one and it applies with its children.
 * Nothing lost, nothing duplicated: the exact totals per model equal the field's.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pushResponseSchema } from '../../shared/api.ts';
import type { WireEnvelope } from '../../shared/envelope.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { outgoingWire, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { issuePairingCode } from '../server/auth.ts';
import { HttpClient } from './client.ts';
import { applyResendRequests } from './preflight.ts';
import { push } from './push.ts';
import { pair, readServerLink } from './server-link.ts';

/** An HTTP proxy that rewrites push bodies with `edit` (gzip JSON in, gzip JSON out). */
async function damagingProxy(target: string, edit: (txs: WireEnvelope[]) => WireEnvelope[]): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      if (req.url === '/api/v1/push') {
        const json = JSON.parse(gunzipSync(body).toString('utf8')) as { transactions: WireEnvelope[] };
        body = gzipSync(JSON.stringify({ transactions: edit(json.transactions) }));
        headers['content-length'] = String(body.length);
      }
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function siteHolds(dir: string) {
  const s = Store.open(dir);
  try {
    return { snap: snapshot(s), ids: (s.sql.prepare('SELECT id FROM incoming_transaction').all() as { id: string }[]).map((r) => r.id) };
  } finally {
    s.close();
  }
}

describe('resend from the source over REST', () => {
  let dirs: TestDirs;
  const servers: ServerProc[] = [];
  const closers: (() => Promise<void>)[] = [];
  before(() => { dirs = new TestDirs(); });
  after(async () => {
    for (const c of closers) await c();
    for (const s of servers) await s.kill('SIGKILL');
    dirs.cleanup();
  });

  it('a damaged visit with children: later pushes keep applying, the resend applies it and its children; totals exact', async () => {
    const site = dirs.store('site', 'site-r1');
    site.close();
    const server = await startServer(site.dir);
    servers.push(server);
    const field = dirs.store('field', 'ra-r1');
    seed(field, 15, { seed: 11 });
    const first = outgoingWire(field);
    const visit = first.find((t) => t.txName === 'edc.visit' && t.action === 'I' && first.some((c) => c.txName === 'edc.vital_signs' && c.producerSeq > t.producerSeq))!;
    // A bad link while the first push runs: every copy of the visit is damaged on the way (a resend within that push too).
    let damaged = 0;
    let badLink = true;
    const proxy = await damagingProxy(server.url, (txs) => txs.map((t) => {
      if (t.id !== visit.id || !badLink) return t;
      damaged++;
      const b = Buffer.from(t.tx, 'base64');
      b[30] = b[30]! ^ 0xff;
      return { ...t, tx: b.toString('base64') };
    }));
    closers.push(() => proxy.close());
    const s = Store.open(site.dir);
    const { code } = issuePairingCode(s);
    s.close();
    await pair(field, proxy.url, code);

    const p1 = await push(field, { batchCount: 50 });
    assert.equal(p1.accepted, first.length, 'the site accepts what it cannot yet decrypt');
    assert.ok(damaged >= 1);
    badLink = false;
    // The site: the visit fails, its children are blocked, everything else applies, the cursor is past them all.
    const st1 = await waitForStore(site.dir, (st) => st.incoming.error === 1 && st.incoming.pending === 0);
    assert.equal(st1.incoming.blocked.length, 1);
    assert.equal(st1.incoming.blocked[0]!.by, visit.id);
    const blocked = st1.incoming.blocked[0]!.count;
    assert.ok(blocked >= 2, `children blocked (${blocked})`);
    assert.equal(st1.incoming.consumed, first.length - 1 - blocked);

    // The laptop works on and pushes again: the pre-flight answer asks for the visit, the laptop resends it.
    seed(field, 5, { seed: 12 });
    const total = outgoingWire(field).length;
    const p2 = await push(field, { batchCount: 50 });
    assert.equal(p2.resent, 1, 'the damaged one was sent again from the outgoing rows');
    assert.equal(p2.accepted, total - first.length);
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
    const st2 = await waitForStore(site.dir, (st) => st.incoming.consumed === total);
    assert.deepEqual([st2.incoming.error, st2.incoming.pending, st2.incoming.blocked.length, st2.incoming.deferred], [0, 0, 0, 0]);
    const held = siteHolds(site.dir);
    assert.equal(held.ids.length, total);
    assert.equal(new Set(held.ids).size, total, 'nothing duplicated');
    assert.deepEqual(held.snap, snapshot(field), 'every record exactly as on the field laptop');
    assert.deepEqual(st2.records, readStatus(field).records, 'the exact totals per model');

    // Bad input: the server's answer naming an id the laptop does not hold changes nothing.
    const r = applyResendRequests(field, ['0190a0b0-0000-7000-8000-00000000dead']);
    assert.deepEqual(r, { resent: 0, unknown: 1 });
    assert.equal(readStatus(field).outgoing.pendingServer, 0);
    // And a re-sent copy nobody asked for is only a duplicate: it never replaces a stored one.
    const http2 = new HttpClient({ baseURL: server.url, token: readServerLink(field.dir).token });
    const dup = await http2.post('/api/v1/push', { transactions: [visit] }, pushResponseSchema);
    assert.deepEqual([dup.data.accepted.length, dup.data.duplicates.length, dup.data.resend], [0, 1, []]);
  });
});
