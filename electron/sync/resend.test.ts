/**
 * The stalled-laptop case end to end over REST (real site server process, real stores): a visit whose copy at the
 * site is damaged (on the way it would be refused at ingest by its signature and simply sent again) fails there, its children are blocked, later pushes keep applying; the site's answer asks for it again, the
 * laptop resends it from its outgoing rows, the good copy replaces the bad one and it applies with its children.
 * Nothing lost, nothing duplicated: the exact totals per model equal the field's.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushResponseSchema } from '../../shared/api.ts';
import { KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { seed } from '../core/seed.ts';
import { readStatus } from '../core/status.ts';
import { DB_FILE, Store } from '../core/store.ts';
import { outgoingWire, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { freePort, startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { issuePairingCode } from '../server/auth.ts';
import { HttpClient } from './client.ts';
import { applyResendRequests } from './preflight.ts';
import { push } from './push.ts';
import { pair, readServerLink } from './server-link.ts';

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
    // The site starts without the study keys, so it holds what it receives without applying it yet.
    const site = dirs.store('site', 'site-r1', { keys: null });
    site.close();
    const port = await freePort();
    let server = await startServer(site.dir, port);
    servers.push(server);
    const field = dirs.store('field', 'ra-r1');
    seed(field, 15, { seed: 11 });
    const first = outgoingWire(field);
    const visit = first.find((t) => t.txName === 'edc.visit' && t.action === 'I' && first.some((c) => c.txName === 'edc.vital_signs' && c.producerSeq > t.producerSeq))!;
    const s = Store.open(site.dir);
    const { code } = issuePairingCode(s, { deviceId: field.deviceId, role: 'field' });
    s.close();
    await pair(field, server.url, code);
    const p1 = await push(field, { batchCount: 50 });
    assert.equal(p1.accepted, first.length, 'the site accepts what it cannot yet decrypt');
    assert.equal(readStatus(field).outgoing.pendingServer, 0, 'and the laptop marked it all delivered');
    // The site's copy of the visit is then damaged where it is kept (a bad sector, a broken copy), and the keys arrive.
    await server.kill('SIGTERM');
    const raw = new Database(path.join(site.dir, DB_FILE));
    const stored = (raw.prepare('SELECT tx FROM incoming_transaction WHERE id = ?').get(visit.id) as { tx: Buffer }).tx;
    stored[30] = stored[30]! ^ 0xff;
    raw.prepare('UPDATE incoming_transaction SET tx = ? WHERE id = ?').run(stored, visit.id);
    raw.close();
    writeKeySetFile(path.join(site.dir, 'keys', KEYSET_FILE), dirs.keys);
    server = await startServer(site.dir, port);
    servers.push(server);
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
    const dup = await http2.post('/api/v1/push', { transactions: [outgoingWire(field).find((t) => t.id === visit.id)!] }, pushResponseSchema);
    assert.deepEqual([dup.data.accepted.length, dup.data.duplicates.length, dup.data.resend], [0, 1, []]);
  });
});
