/**
 * Golden schema-1 fixtures (electron/core/testing/golden/v1/, made once by scripts/make-golden-fixtures.ts with the
 * schema-1 code): every later version must consume them UNCHANGED, by every path a fleet uses. Never regenerate
 * them to make this pass: a failure means laptops still running the old version would be stranded.
 *
 * Paths: the wire JSON pushed over REST to a real server process; the old laptop store (schema-1 migrations) opened
 * by this code and pushed; shared to a middleman that pulls and forwards; copied DB→DB; its exported batch file
 * imported, with the receipt clearing the laptop.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pairResponseSchema, pushResponseSchema } from '../../shared/api.ts';
import { wireEnvelopeSchema, type WireEnvelope } from '../../shared/envelope.ts';
import { manifestSchema } from '../../shared/files.ts';
import { exportBatches } from '../files/export.ts';
import { importBatches } from '../files/import.ts';
import { applyReceipts, readReceiptsDir } from '../files/receipts.ts';
import { pinPeerKey } from '../files/signing.ts';
import { HttpClient } from '../sync/client.ts';
import { pull } from '../sync/pull.ts';
import { push } from '../sync/push.ts';
import { pair } from '../sync/server-link.ts';
import { startShare } from '../sync/share.ts';
import { issuePairingCode } from '../server/auth.ts';
import { Consumer } from './consumer.ts';
import { wireSignatureValid } from './envelope.ts';
import { copyFrom } from './copy.ts';
import { installKeySetText, KeySet } from './crypto/keyset.ts';
import { MODELS } from './domain/registry.ts';
import { UPCAST_STEPS } from './domain/upcast.ts';
import type { TxName } from '../../shared/domain.ts';
import { readStatus } from './status.ts';
import { Store } from './store.ts';
import { outgoingWire, pairAt, TestDirs } from './testing/fixtures.ts';
import { startServer, waitForStore, type ServerProc } from './testing/processes.ts';

const GOLDEN = fileURLToPath(new URL('./testing/golden/v1/', import.meta.url));
const keysetText = readFileSync(path.join(GOLDEN, 'keyset.json'), 'utf8');
const envelopes = readFileSync(path.join(GOLDEN, 'envelopes.jsonl'), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as WireEnvelope);
const expected = JSON.parse(readFileSync(path.join(GOLDEN, 'expected.json'), 'utf8')) as {
  producer: string; transactions: number; keyIds: string[]; rows: Record<string, Record<string, unknown>[]>;
};
const PRODUCER = expected.producer;
const TOTAL = expected.transactions;

/** The receiver's rows, restricted to the columns schema 1 had (a newer schema may add columns, never drop them). */
function assertHoldsGolden(store: Store, what: string): void {
  for (const [txName, rows] of Object.entries(expected.rows)) {
    const m = MODELS.get(txName);
    assert.ok(m, `${txName} is still a model`);
    const got = store.sql.prepare(`SELECT * FROM "${m.tableName}" ORDER BY id`).all() as Record<string, unknown>[];
    assert.equal(got.length, rows.length, `${what}: ${txName} count`);
    const cols = rows.length ? Object.keys(rows[0]!) : [];
    assert.deepEqual(got.map((r) => Object.fromEntries(cols.map((c) => [c, r[c]]))), rows, `${what}: ${txName} rows`);
    // A column added since holds what its upcaster gives a schema-1 record (schema 2: no oxygen saturation measured).
    for (const [version, step] of Object.entries(UPCAST_STEPS)) {
      for (const [column, initial] of Object.entries(step[txName as TxName]?.added ?? {})) {
        assert.deepEqual([...new Set(got.map((r) => r[column]))], rows.length ? [initial] : [], `${what}: ${txName}.${column} (schema ${version}) from its upcaster`);
      }
    }
  }
}

function withStore<T>(dir: string, fn: (s: Store) => T): T {
  const s = Store.open(dir);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

describe('golden schema-1 fixtures are consumed unchanged', () => {
  let dirs: TestDirs;
  const servers: ServerProc[] = [];
  before(() => { dirs = new TestDirs(); });
  after(async () => {
    for (const s of servers) await s.kill('SIGKILL');
    dirs.cleanup();
  });

  const keys = () => KeySet.parse(keysetText, 'golden keyset.json');

  /** A copy of the old laptop's data folder, opened (and migrated) by this code, with the golden key set. */
  const goldenLaptop = (name: string): Store => {
    const dir = dirs.path(name);
    cpSync(path.join(GOLDEN, 'field-store'), dir, { recursive: true });
    const s = dirs.track(Store.open(dir));
    installKeySetText(s, keysetText, 'golden keyset.json');
    return s;
  };

  const siteServer = async (id: string): Promise<{ dir: string; server: ServerProc }> => {
    const site = dirs.store('site', id, { keys: keys() });
    site.close();
    const server = await startServer(site.dir);
    servers.push(server);
    return { dir: site.dir, server };
  };

  const pairWith = async (store: Store, siteDir: string, url: string) => {
    const { code } = withStore(siteDir, (s) => issuePairingCode(s, { deviceId: store.deviceId, role: store.role }));
    await pair(store, url, code);
  };

  it('the fixtures still parse: envelopes, manifest, key set', () => {
    assert.equal(envelopes.length, TOTAL);
    for (const e of envelopes) assert.ok(wireEnvelopeSchema.safeParse(e).success, `envelope ${e.id}`);
    assert.deepEqual([...new Set(envelopes.map((e) => e.schemaVersion))], [1]);
    assert.deepEqual([...new Set(envelopes.map((e) => e.keyId))].sort(), [...expected.keyIds].sort(), 'two keys: the laptop rotated');
    const manifests = readdirSync(path.join(GOLDEN, 'batch')).filter((f) => f.endsWith('.manifest.json'));
    assert.equal(manifests.length, 1);
    const m = manifestSchema.parse(JSON.parse(readFileSync(path.join(GOLDEN, 'batch', manifests[0]!), 'utf8')));
    assert.equal(m.count, TOTAL);
    assert.equal(m.schemaVersion, 1);
    assert.deepEqual(keys().file.keys.map((k) => k.keyId), expected.keyIds);
  });

  it('REST: the wire JSON pushed to a site server process is accepted, consumed to exactly the rows, re-sent as duplicates', async () => {
    const { dir, server } = await siteServer('site-g1');
    // Paired as the schema-1 version paired (no device key presented): its unsigned envelopes are accepted.
    const { code } = withStore(dir, (s) => issuePairingCode(s, { deviceId: PRODUCER, role: 'field' }));
    const paired = pairResponseSchema.parse(await (await fetch(`${server.url}/api/v1/pair`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, deviceId: PRODUCER, role: 'field' }) })).json());
    const http = new HttpClient({ baseURL: server.url, token: paired.token });
    const first = await http.post('/api/v1/push', { transactions: envelopes.slice(0, 40) }, pushResponseSchema);
    const second = await http.post('/api/v1/push', { transactions: envelopes.slice(40) }, pushResponseSchema);
    assert.equal(first.data.accepted.length + second.data.accepted.length, TOTAL);
    assert.deepEqual([...first.data.rejected, ...second.data.rejected], []);
    assert.equal(second.data.highWater[PRODUCER], TOTAL);
    await waitForStore(dir, (s) => s.incoming.consumed === TOTAL);
    withStore(dir, (s) => {
      assertHoldsGolden(s, 'REST');
      const st = readStatus(s).incoming;
      assert.deepEqual([st.error, st.conflicts, st.pending, st.deferred], [0, 0, 0, 0]);
    });
    const again = await http.post('/api/v1/push', { transactions: envelopes.slice(0, 30) }, pushResponseSchema);
    assert.deepEqual([again.data.accepted.length, again.data.duplicates.length], [0, 30]);
  });

  it('the old laptop store, opened by this version, sends the same envelopes and pushes them all; a second push sends nothing', async () => {
    const laptop = goldenLaptop('laptop-rest');
    // The stored rows travel as they did, plus the signature the laptop added to its own backlog on upgrade.
    const sent = outgoingWire(laptop);
    assert.deepEqual(JSON.parse(JSON.stringify(sent.map(({ sig: _sig, ...e }) => e))), envelopes, 'the stored rows travel as they did');
    for (const e of sent) assert.ok(wireSignatureValid(e, laptop.signingKey.publicKey), `signed on upgrade: ${e.id}`);
    assert.equal(readStatus(laptop).outgoing.pendingServer, TOTAL);
    const { dir, server } = await siteServer('site-g2');
    await pairWith(laptop, dir, server.url);
    const r = await push(laptop, { batchCount: 30 });
    assert.equal(r.accepted, TOTAL);
    assert.equal(readStatus(laptop).outgoing.pendingServer, 0);
    assert.equal((await push(laptop)).sent, 0);
    await waitForStore(dir, (s) => s.incoming.consumed === TOTAL);
    withStore(dir, (s) => assertHoldsGolden(s, 'laptop push'));
  });

  it('via a middleman: shared by the old laptop, pulled and applied, forwarded to a site server', async () => {
    const laptop = goldenLaptop('laptop-share');
    const mm = dirs.store('middleman', 'mm-g1', { keys: keys() });
    const share = await startShare(laptop, { host: '127.0.0.1', port: 0 });
    try {
      const pulled = await pull(mm, share.url, share.code, { pageSize: 25 });
      assert.equal(await share.closed, 'done');
      assert.equal(pulled.received, TOTAL);
      assert.equal(pulled.consumed.applied, TOTAL);
    } finally {
      await share.stop();
    }
    assertHoldsGolden(mm, 'middleman');
    assert.equal(readStatus(laptop).outgoing.pendingMiddleman, 0);
    const { dir, server } = await siteServer('site-g3');
    await pairWith(mm, dir, server.url);
    await pairWith(laptop, dir, server.url); // the site knows every device that writes, whoever carries its data
    assert.equal((await push(mm)).accepted, TOTAL);
    await waitForStore(dir, (s) => s.incoming.consumed === TOTAL);
    withStore(dir, (s) => {
      assertHoldsGolden(s, 'site via middleman');
      assert.deepEqual(s.sql.prepare('SELECT received_via, count(*) AS n FROM incoming_transaction GROUP BY received_via').all(), [{ received_via: 'middleman', n: TOTAL }]);
    });
  });

  it('via copy: DB→DB from the old laptop store, opened by this version or as the old version left it', () => {
    const laptop = goldenLaptop('laptop-copy');
    const site = dirs.store('site', 'site-g4', { keys: keys() });
    // A site copies only from devices paired with it; the laptop was paired as the schema-1 version paired (no key).
    const refused = copyFrom(site, laptop.dir);
    assert.deepEqual([refused.accepted, refused.rejected.length], [0, TOTAL], 'not paired here yet: refused, nothing stored');
    pairAt(site, { deviceId: PRODUCER, role: 'field' });
    const r = copyFrom(site, laptop.dir);
    assert.deepEqual([r.accepted, r.duplicates, r.rejected.length], [TOTAL, 0, 0]);
    const c = new Consumer(site).consume();
    assert.deepEqual([c.applied + c.ignored, c.errors, c.conflicts, c.deferred], [TOTAL, 0, 0, 0]);
    assertHoldsGolden(site, 'copy');
    // The old store as the schema-1 version left it (never opened by this code: no signatures at all).
    const untouched = dirs.path('laptop-copy-untouched');
    cpSync(path.join(GOLDEN, 'field-store'), untouched, { recursive: true });
    const site2 = dirs.store('site', 'site-g5', { keys: keys() });
    pairAt(site2, { deviceId: PRODUCER, role: 'field' });
    const r2 = copyFrom(site2, untouched);
    assert.deepEqual([r2.accepted, r2.duplicates, r2.rejected.length], [TOTAL, 0, 0]);
    new Consumer(site2).consume();
    assertHoldsGolden(site2, 'copy of the untouched old store');
  });

  it('via file import: the golden batch and manifest imported; the receipt clears the old laptop', async () => {
    const incoming = dirs.path('usb-golden');
    mkdirSync(incoming, { recursive: true });
    cpSync(path.join(GOLDEN, 'batch'), incoming, { recursive: true });
    const central = dirs.store('central', 'central-g1', { keys: keys() });
    const r = importBatches(central, incoming);
    assert.deepEqual([r.imported.length, r.quarantined.length, r.imported[0]?.accepted], [1, 0, TOTAL]);
    assertHoldsGolden(central, 'file import');
    const laptop = goldenLaptop('laptop-file');
    assert.equal(exportBatches(laptop, dirs.path('laptop-file-out')).batches.length, 0, 'the golden batch is already the laptop\'s batch 1');
    pinPeerKey(laptop, central.deviceId, central.signingKey.publicKey, 'registered');
    const ack = applyReceipts(laptop, await readReceiptsDir(incoming), { via: 'usb' });
    assert.equal(ack.acknowledged.length, 1);
    assert.equal(readStatus(laptop).outgoing.pendingServer, 0);
  });

  it('via file import at a site (a USB stick from the old laptop): refused until the laptop is paired there, then imported', () => {
    const site = dirs.store('site', 'site-g6', { keys: keys() });
    const stick = (name: string) => {
      const d = dirs.path(name);
      mkdirSync(d, { recursive: true });
      cpSync(path.join(GOLDEN, 'batch'), d, { recursive: true });
      return d;
    };
    const refused = importBatches(site, stick('usb-golden-site-1'));
    assert.deepEqual([refused.imported.length, refused.quarantined.length], [0, 1]);
    assert.match(refused.quarantined[0]!.reason, /ra-g01 is not a device paired with this server/);
    assert.equal(readStatus(site).incoming.total, 0, 'nothing stored');
    pairAt(site, { deviceId: PRODUCER, role: 'field' }); // paired as the schema-1 version paired (no key)
    const r = importBatches(site, stick('usb-golden-site-2'));
    assert.deepEqual([r.imported.length, r.quarantined.length, r.imported[0]?.accepted], [1, 0, TOTAL]);
    assertHoldsGolden(site, 'file import at a site');
  });
});
