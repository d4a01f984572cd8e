/**
 * Every wait is named per producer (issue 9, deliverable 6): `status --json` `incoming.producerWaits` says, for each
 * producer whose transactions wait at a site, why: a gap, a parent still on its way (deferred, with since when), a
 * failed transaction they depend on (blocked), a newer schema, or a key this site lacks. Each wait clears when its
 * cause is fixed. Real stores; the command line prints the same.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { statusSchema, type ProducerWait } from '../../shared/status.ts';
import { Consumer } from './consumer.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from './crypto/keyset.ts';
import { SCHEMA_VERSION } from './domain/registry.ts';
import { Study } from './domain/study.ts';
import { seed } from './seed.ts';
import { readStatus } from './status.ts';
import { Store } from './store.ts';
import { damage, outgoingWire, pairAt, TestDirs } from './testing/fixtures.ts';
import { BIN } from './testing/processes.ts';

const ra = { user: 'ra.test' };
const person = (n: number) => ({ firstName: `Name${n}`, lastName: 'Sello', dob: '1990-01-0' + n, identityNumber: `7700${n}0000`, phone: null, gender: 'F' as const, registrationDatetime: '2026-01-05T08:00:00.000Z' });


const waitsOf = (s: Store, producer: string): ProducerWait[] => readStatus(s).incoming.producerWaits.filter((w) => w.producer === producer);

describe('per-producer wait reasons', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('gap, deferred, blocked, schema and key: each named for its producer, each cleared by its fix', () => {
    const site = dirs.store('site', 'site-pw');
    const consumer = new Consumer(site);

    // gap: ra-pw1's 4–5 have not arrived.
    const gapLaptop = dirs.store('field', 'ra-pw1');
    for (let i = 1; i <= 8; i++) new Study(gapLaptop).registerSubject(person(i % 9), ra);
    const gapTxs = outgoingWire(gapLaptop);
    // deferred: a middleman's visit for ra-pw2's subject, which has not reached the site yet.
    const parentLaptop = dirs.store('field', 'ra-pw2');
    const subject = new Study(parentLaptop).registerSubject(person(2), ra);
    const mm = dirs.store('middleman', 'mm-pw');
    new Consumer(mm).ingest(outgoingWire(parentLaptop), 'rest');
    new Consumer(mm).consume();
    new Study(mm).write.insert('edc.visit', { subjectId: String(subject.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
    // blocked: ra-pw3's visit arrived damaged; its children wait for it.
    const damaged = dirs.store('field', 'ra-pw3');
    seed(damaged, 6, { seed: 4 });
    const damagedTxs = outgoingWire(damaged);
    const visitTx = damagedTxs.find((t) => t.txName === 'edc.visit' && t.action === 'I')!;
    // key: ra-pw4 rotated its key; the site has not imported the new set.
    const rotatedLaptop = dirs.store('field', 'ra-pw4');
    const rotated = dirs.keys.rotated();
    writeKeySetFile(path.join(rotatedLaptop.keyDir, KEYSET_FILE), rotated);
    rotatedLaptop.reloadKeys();
    new Study(rotatedLaptop).registerSubject(person(4), ra);
    new Study(rotatedLaptop).registerSubject(person(5), ra);
    // schema: ra-pw5 runs a newer version (its envelopes say so).
    const newer = dirs.store('field', 'ra-pw5');
    new Study(newer).registerSubject(person(6), ra);
    const newerTxs = outgoingWire(newer).map((e) => ({ ...e, schemaVersion: SCHEMA_VERSION + 1 }));

    // Paired with keys, except the two whose envelopes this test alters (paired before device keys: no key on record).
    pairAt(site, gapLaptop, parentLaptop, mm, rotatedLaptop, { deviceId: 'ra-pw3' }, { deviceId: 'ra-pw5' });
    consumer.ingest([...gapTxs.slice(0, 3), ...gapTxs.slice(5)], 'copy');
    consumer.ingest(outgoingWire(mm), 'copy');
    consumer.ingest(damagedTxs.map((t) => (t.id === visitTx.id ? damage(t) : t)), 'copy');
    consumer.ingest(outgoingWire(rotatedLaptop), 'copy');
    consumer.ingest(newerTxs, 'copy');
    consumer.consume();

    const st = readStatus(site);
    const byProducer = (p: string) => st.incoming.producerWaits.filter((w) => w.producer === p);
    assert.deepEqual(byProducer('ra-pw1'), [{ producer: 'ra-pw1', kind: 'gap', count: 2, from: 4, to: 5 }]);
    const [deferred, ...moreMm] = byProducer('mm-pw');
    assert.equal(moreMm.length, 0);
    assert.equal(deferred?.kind, 'deferred');
    assert.ok(deferred?.kind === 'deferred' && deferred.count === 1 && deferred.since !== null && /waiting for parent edc\.subject/.test(deferred.reason), JSON.stringify(deferred));
    const [blocked, ...moreBlocked] = byProducer('ra-pw3');
    assert.equal(moreBlocked.length, 0);
    assert.ok(blocked?.kind === 'blocked' && blocked.by === visitTx.id && /^DECRYPT_FAILED/.test(blocked.reason), JSON.stringify(blocked));
    assert.equal(blocked.count, st.incoming.blocked.reduce((n, b) => n + b.count, 0));
    assert.deepEqual(byProducer('ra-pw4'), [{ producer: 'ra-pw4', kind: 'key', count: 2, keyIds: [rotated.activeKeyId] }]);
    assert.deepEqual(byProducer('ra-pw5'), [{ producer: 'ra-pw5', kind: 'schema', count: newerTxs.length, schemaVersion: SCHEMA_VERSION + 1, here: SCHEMA_VERSION }]);
    assert.deepEqual(byProducer('ra-pw2'), [], 'nothing of ra-pw2 waits: it has sent nothing yet');
    assert.ok(statusSchema.safeParse(JSON.parse(JSON.stringify(st))).success, 'the documented shape');

    // The command line says the same, in words and in JSON.
    site.close();
    const cli = (args: string[]) => execFileSync(process.execPath, [BIN, '--data', site.dir, ...args], { encoding: 'utf8' });
    const json = statusSchema.parse(JSON.parse(cli(['status', '--json'])));
    assert.deepEqual(json.incoming.producerWaits, st.incoming.producerWaits);
    const text = cli(['status']);
    assert.match(text, /^waiting for 4–5 from ra-pw1$/m);
    assert.match(text, /^1 from mm-pw wait for a record they belong to that has not arrived yet \(since /m);
    assert.match(text, new RegExp(`^\\d+ from ra-pw3 wait for ${visitTx.id}, which failed here \\(DECRYPT_FAILED`, 'm'));
    assert.match(text, new RegExp(`^1 from ra-pw5 were written by schema ${SCHEMA_VERSION + 1}; this device runs schema ${SCHEMA_VERSION}: update EDC Sync here$`, 'm'));
    assert.match(text, new RegExp(`^2 from ra-pw4 use key ${rotated.activeKeyId}, which this device's key set lacks: import the newer key set`, 'm'));
    const s = dirs.track(Store.open(site.dir));
    const c = new Consumer(s);

    // Fixes: the gap filled, the parent arrives, the good copy comes, the key set is imported.
    c.ingest(gapTxs.slice(3, 5), 'copy');
    c.ingest(outgoingWire(parentLaptop), 'copy');
    c.ingest([visitTx], 'copy');
    c.consume();
    writeKeySetFile(path.join(s.keyDir, KEYSET_FILE), dirs.keys.merged(rotated));
    s.reloadKeys();
    c.retryErrors();
    for (const p of ['ra-pw1', 'mm-pw', 'ra-pw3', 'ra-pw4']) assert.deepEqual(waitsOf(s, p), [], `${p} waits no more`);
    assert.deepEqual(waitsOf(s, 'ra-pw5').map((w) => w.kind), ['schema'], 'only the update clears a newer schema');
  });

  it('a site with no key set, or another study\'s: everything waits for a key, named per producer, before any consume', () => {
    const laptop = dirs.store('field', 'ra-pk1');
    seed(laptop, 2, { seed: 5 });
    const bare = dirs.store('site', 'site-pk1', { keys: null });
    pairAt(bare, laptop);
    new Consumer(bare).ingest(outgoingWire(laptop), 'copy');
    assert.deepEqual(waitsOf(bare, 'ra-pk1'), [{ producer: 'ra-pk1', kind: 'key', count: outgoingWire(laptop).length, keyIds: [dirs.keys.activeKeyId] }]);
    writeKeySetFile(path.join(bare.keyDir, KEYSET_FILE), dirs.keys);
    bare.reloadKeys();
    assert.deepEqual(waitsOf(bare, 'ra-pk1'), [], 'with the key, nothing waits for one (the consumer just has not run yet)');
    new Consumer(bare).consume();
    assert.deepEqual(readStatus(bare).incoming.producerWaits, []);
    const foreign = dirs.store('site', 'site-pk2', { keys: KeySet.generate() });
    pairAt(foreign, laptop);
    new Consumer(foreign).ingest(outgoingWire(laptop), 'copy');
    assert.throws(() => new Consumer(foreign).consume(), /wrong study keys/);
    assert.deepEqual(waitsOf(foreign, 'ra-pk1'), [{ producer: 'ra-pk1', kind: 'key', count: outgoingWire(laptop).length, keyIds: [dirs.keys.activeKeyId] }]);
  });
});
