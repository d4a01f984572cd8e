/**
 * Integration: several real SQLite stores (field laptops, a middleman, a site) exchanging transactions through
 * the consumer, as DESIGN section 2 requires: idempotent, per-producer order, gaps held, parents deferred,
 * tampering isolated, conflicts listed, deletes and history carried.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { listConflicts } from './conflicts.ts';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from './crypto/keyset.ts';
import { Study } from './domain/study.ts';
import { envelopeAad, type RawRow } from './envelope.ts';
import { seed } from './seed.ts';
import { readStatus } from './status.ts';
import type { Store } from './store.ts';
import { mergeSnapshots, outgoingWire, pairAt, shuffle, snapshot, TestDirs } from './testing/fixtures.ts';

const ra = { user: 'ra.test' };

const outgoing = outgoingWire;

function historyIds(store: Store): string[] {
  return (store.sql.prepare('SELECT id FROM audit_history ORDER BY id').all() as { id: string }[]).map((r) => r.id);
}

function registration(n: number) {
  return {
    firstName: `Name${n}`, lastName: 'Molefe', dob: '1990-04-02', identityNumber: `9000${n}0000`, phone: null,
    gender: 'F' as const, registrationDatetime: '2026-01-05T08:00:00.000Z',
  };
}

describe('consumer', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('two drains of one store interleaved chunk by chunk (a server\'s background consumer beside a retry or import) apply everything once', () => {
    const field = dirs.store('field', 'ra-19');
    seed(field, 120, { seed: 3 }); // > 1,000 transactions: several chunks
    const site = dirs.store('site', 'site-19');
    pairAt(site, field);
    copyFrom(site, field.dir);
    const a = new Consumer(site).steps();
    const b = new Consumer(site).steps();
    const results = [];
    for (let doneA = false, doneB = false; !doneA || !doneB;) {
      if (!doneA) { const n = a.next(); if (n.done) { doneA = true; results.push(n.value); } }
      if (!doneB) { const n = b.next(); if (n.done) { doneB = true; results.push(n.value); } }
    }
    const status = readStatus(site);
    assert.equal(status.incoming.consumed, outgoing(field).length);
    assert.deepEqual([status.incoming.conflicts, status.incoming.error, status.incoming.pending], [0, 0, 0], 'no chunk applied twice');
    assert.equal(results.reduce((n, r) => n + r.applied, 0), outgoing(field).length);
    assert.deepEqual(snapshot(site), snapshot(field));
  });

  it('three field stores, copied to a site shuffled and twice: the site holds exactly their union', () => {
    const fields = ['ra-11', 'ra-12', 'ra-13'].map((id, i) => {
      const s = dirs.store('field', id);
      seed(s, 25 + i * 5, { seed: 7 });
      return s;
    });
    const site = dirs.store('site', 'site-01');
    pairAt(site, ...fields);
    const consumer = new Consumer(site);
    const all = shuffle(fields.flatMap(outgoing), 3);
    // Arrive in shuffled chunks, consuming between arrivals: gaps and deferrals happen and resolve.
    for (let i = 0; i < all.length; i += 97) {
      const r = consumer.ingest(all.slice(i, i + 97), 'copy');
      assert.equal(r.rejected.length, 0);
      consumer.consume();
    }
    // …and everything again, through the DB→DB path: only duplicates.
    for (const f of fields) {
      const r = copyFrom(site, f.dir);
      assert.equal(r.accepted, 0);
      assert.equal(r.duplicates, outgoing(f).length);
    }
    const final = consumer.consume();
    assert.deepEqual(final.gaps, []);
    const status = readStatus(site);
    assert.equal(status.incoming.total, all.length);
    assert.equal(status.incoming.consumed, all.length);
    assert.equal(status.incoming.error + status.incoming.conflicts + status.incoming.pending, 0);
    assert.deepEqual(snapshot(site), mergeSnapshots(fields.map(snapshot)), 'decrypted content equals the union');
    assert.deepEqual(historyIds(site), fields.flatMap(historyIds).sort(), 'history rows arrive with the data');
    const deletes = all.filter((e) => e.action === 'D').length;
    assert.ok(deletes > 0, 'the seed deletes some requisitions');
    assert.ok(all.some((e) => e.action === 'U'), 'the seed updates some records');
  });

  it('a gap holds later transactions and is reported; they apply once it is filled', () => {
    const field = dirs.store('field', 'ra-21');
    const study = new Study(field);
    for (let i = 0; i < 30; i++) study.registerSubject(registration(i), ra);
    const txs = outgoing(field);
    const site = dirs.store('site', 'site-21');
    pairAt(site, field);
    const consumer = new Consumer(site);
    consumer.ingest([...txs.slice(0, 10), ...txs.slice(20, 30)], 'copy');
    const r1 = consumer.consume();
    assert.equal(r1.applied, 10);
    assert.deepEqual(r1.gaps, [{ producer: 'ra-21', from: 11, to: 20 }]);
    const status = readStatus(site);
    assert.deepEqual(status.incoming.gaps, [{ producer: 'ra-21', from: 11, to: 20 }]);
    assert.equal(status.incoming.pending, 10);
    assert.equal(status.records['edc.subject'], 10);
    consumer.ingest(txs.slice(10, 20), 'copy');
    const r2 = consumer.consume();
    assert.equal(r2.applied, 20);
    assert.deepEqual(r2.gaps, []);
    assert.equal(readStatus(site).records['edc.subject'], 30);
  });

  it('a record whose parent comes from another producer is deferred, then applied when the parent arrives', () => {
    const field = dirs.store('field', 'ra-31');
    const middleman = dirs.store('middleman', 'mm-31');
    const site = dirs.store('site', 'site-31');
    pairAt(site, field, middleman);
    const subject = new Study(field).registerSubject(registration(1), ra);
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    const mmStudy = new Study(middleman);
    const visit = mmStudy.write.insert('edc.visit', { subjectId: String(subject.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
    const consumer = new Consumer(site);
    consumer.ingest(outgoing(middleman), 'copy'); // the visit, from mm-31, before its subject from ra-31
    const r1 = consumer.consume();
    assert.equal(r1.applied, 0);
    assert.equal(r1.deferred, 1);
    const row = site.sql.prepare('SELECT deferred_count, deferred_reason, is_error FROM incoming_transaction WHERE tx_pk = ?').get(visit.id) as RawRow;
    assert.equal(row.is_error, 0);
    assert.match(String(row.deferred_reason), /waiting for parent edc\.subject/);
    assert.equal(readStatus(site).incoming.deferred, 1);
    consumer.ingest(outgoing(field), 'copy');
    const r2 = consumer.consume();
    assert.equal(r2.applied, 2);
    assert.equal(r2.deferred, 0);
    assert.equal(readStatus(site).incoming.deferred, 0);
    assert.ok(new Study(site).get('edc.visit', String(visit.id)));
  });

  it('a tampered transaction errors with a reason, the rest apply; it stays for retry', () => {
    const field = dirs.store('field', 'ra-41');
    const study = new Study(field);
    const s = study.registerSubject(registration(1), ra);
    const visit = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
    const vitals = study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 160, systolic: 110, diastolic: 70, temperatureC: 36.5 }, ra);
    study.write.insert('edc.medical_history', { visitId: String(visit.id), hypertension: false, diabetes: false, hivStatus: 'negative', currentMedications: null }, ra);
    study.write.insert('edc.consent', { subjectId: String(s.id), version: '1.0', consentDatetime: '2026-01-05T08:05:00.000Z', isLiterate: true, language: 'en' }, ra);
    const txs = outgoing(field);
    const bad = txs.findIndex((t) => t.txPk === vitals.id);
    const bytes = Buffer.from(txs[bad]!.tx, 'base64');
    bytes[20] = bytes[20]! ^ 0xff;
    txs[bad] = { ...txs[bad]!, tx: bytes.toString('base64') };
    // And a payload moved onto another envelope: authentic ciphertext, wrong place.
    const swapped = { ...txs[4]!, tx: txs[3]!.tx };
    txs[4] = swapped;
    const site = dirs.store('site', 'site-41');
    // Paired as before device keys (no key on record), so the altered ciphertexts reach the consumer: what a
    // signature refuses at ingest is copy-trust.test's.
    pairAt(site, { deviceId: 'ra-41' });
    const consumer = new Consumer(site);
    consumer.ingest(txs, 'copy');
    const r = consumer.consume();
    assert.equal(r.errors, 2);
    assert.equal(r.applied, 3);
    const errs = site.sql.prepare('SELECT producer_seq, error FROM incoming_transaction WHERE is_error = 1 ORDER BY producer_seq').all() as RawRow[];
    assert.deepEqual(errs.map((e) => e.producer_seq), [bad + 1, 5]);
    for (const e of errs) assert.match(String(e.error), /^DECRYPT_FAILED: .*altered or corrupted/);
    assert.equal(readStatus(site).incoming.error, 2);
    const again = consumer.retryErrors();
    assert.equal(again.errors, 2, 'still undecryptable: kept as errors, never dropped');
    assert.equal((site.sql.prepare('SELECT count(*) AS n FROM incoming_transaction').get() as { n: number }).n, 5);
  });

  it('a NUL in a change\'s history (a hostile laptop) fails that change alone, never the store', () => {
    const honest = dirs.store('field', 'ra-42');
    new Study(honest).registerSubject(registration(2), ra);
    const hostile = dirs.store('field', 'ra-43');
    new Study(hostile).registerSubject(registration(3), ra);
    const site = dirs.store('site', 'site-42');
    pairAt(site, honest, { deviceId: 'ra-43' }); // ra-43 paired before device keys: its envelopes need no signature
    const keys = site.requireKeys();
    const [first, ...rest] = outgoing(hostile);
    const aad = envelopeAad({ id: first!.id, producer: first!.producer, producer_seq: first!.producerSeq, tx_name: first!.txName, tx_pk: first!.txPk, action: first!.action, schema_version: first!.schemaVersion });
    const plain = JSON.parse(keys.decrypt(first!.keyId, Buffer.from(first!.tx, 'base64'), aad).toString('utf8')) as { history: { user: string } };
    plain.history.user = 'ra.test\u0000';
    const forged = { ...first!, sig: undefined, tx: keys.encrypt(Buffer.from(JSON.stringify(plain)), aad).blob.toString('base64') };
    const consumer = new Consumer(site);
    consumer.ingest([forged, ...rest.map((e) => ({ ...e, sig: undefined }))], 'copy');
    consumer.ingest(outgoing(honest), 'copy');
    const r = consumer.consume(); // never throws: on PostgreSQL the NUL is refused as that statement's value
    // PostgreSQL's text cannot hold NUL: that change (and what needs it) waits as an error; SQLite stores it as sent.
    const refused = site.sql.dialect === 'postgres' ? 1 : 0;
    assert.equal(r.errors, refused);
    assert.equal(r.applied + r.blocked, outgoing(honest).length + outgoing(hostile).length - refused);
    assert.deepEqual(snapshot(site)['edc.subject']?.map((x) => x.subject_identifier).sort(), [...new Set([...snapshot(honest)['edc.subject']!, ...(refused ? [] : snapshot(hostile)['edc.subject']!)].map((x) => x.subject_identifier))].sort());
    assert.equal(consumer.retryErrors().errors, refused, 'retry: the same, and the store goes on');
  });

  it('no key set or the wrong key set: consume is refused and nothing is marked; the right keys fix it', () => {
    const field = dirs.store('field', 'ra-51');
    new Study(field).registerSubject(registration(1), ra);
    const noKeys = dirs.store('site', 'site-51', { keys: null });
    pairAt(noKeys, field);
    new Consumer(noKeys).ingest(outgoing(field), 'copy');
    assert.throws(() => new Consumer(noKeys).consume(), (e) => isEdcError(e, 'KEYS_MISSING'));
    const wrong = dirs.store('site', 'site-52', { keys: KeySet.generate() });
    pairAt(wrong, field);
    const consumer = new Consumer(wrong);
    consumer.ingest(outgoing(field), 'copy');
    assert.throws(() => consumer.consume(), (e) => isEdcError(e, 'KEY_UNKNOWN') && /wrong study keys/.test(e.message));
    assert.equal(readStatus(wrong).incoming.error, 0);
    assert.equal(readStatus(wrong).incoming.pending, 1);
    writeKeySetFile(path.join(wrong.keyDir, KEYSET_FILE), dirs.keys);
    wrong.reloadKeys();
    assert.equal(consumer.consume().applied, 1);
  });

  it('a key rotation not yet imported: KEY_UNKNOWN errors, cleared by retry after import', () => {
    const field = dirs.store('field', 'ra-56');
    const site = dirs.store('site', 'site-56');
    pairAt(site, field);
    const study = new Study(field);
    study.registerSubject(registration(1), ra);
    const rotated = dirs.keys.rotated();
    writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), rotated);
    field.reloadKeys();
    study.registerSubject(registration(2), ra);
    const consumer = new Consumer(site);
    consumer.ingest(outgoing(field), 'copy');
    const r = consumer.consume();
    assert.equal(r.applied, 1);
    assert.equal(r.errors, 1);
    assert.match(String((site.sql.prepare('SELECT error FROM incoming_transaction WHERE is_error = 1').get() as RawRow).error), /^KEY_UNKNOWN/);
    writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), dirs.keys.merged(rotated));
    site.reloadKeys();
    const retried = consumer.retryErrors();
    assert.equal(retried.applied, 1);
    assert.equal(readStatus(site).incoming.error, 0);
    assert.equal(readStatus(site).records['edc.subject'], 2);
  });

  it('a delete propagates and a late duplicate of it is harmless', () => {
    const field = dirs.store('field', 'ra-61');
    const study = new Study(field);
    const s = study.registerSubject(registration(1), ra);
    const c = study.write.insert('edc.consent', { subjectId: String(s.id), version: '1.0', consentDatetime: '2026-01-05T08:05:00.000Z', isLiterate: true, language: 'en' }, ra);
    study.write.delete('edc.consent', String(c.id), ra);
    const site = dirs.store('site', 'site-61');
    pairAt(site, field);
    const consumer = new Consumer(site);
    consumer.ingest(outgoing(field), 'copy');
    assert.equal(consumer.consume().applied, 3);
    assert.equal(readStatus(site).records['edc.consent'], 0);
    const hist = site.sql.prepare("SELECT action FROM audit_history WHERE tx_name = 'edc.consent' ORDER BY at, action DESC").all() as RawRow[];
    assert.deepEqual(hist.map((h) => h.action).sort(), ['D', 'I']);
    assert.equal(consumer.ingest(outgoing(field), 'copy').duplicates.length, 3);
    assert.equal(consumer.consume().applied, 0);
  });

  it('the same record changed by two producers: the second change is a listed conflict, never applied or dropped', () => {
    const field = dirs.store('field', 'ra-71');
    const middleman = dirs.store('middleman', 'mm-71');
    const site = dirs.store('site', 'site-71');
    pairAt(site, field, middleman);
    const fStudy = new Study(field);
    const s = fStudy.registerSubject({ ...registration(1), phone: '+267 71 000 001' }, ra);
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    new Study(middleman).write.update('edc.subject', String(s.id), { phone: '+267 72 000 002' }, { user: 'driver' });
    fStudy.write.update('edc.subject', String(s.id), { phone: '+267 73 000 003' }, ra);
    const consumer = new Consumer(site);
    copyFrom(site, field.dir);
    copyFrom(site, middleman.dir);
    const r = consumer.consume();
    assert.equal(r.applied, 2);
    assert.equal(r.conflicts, 1);
    const status = readStatus(site);
    assert.equal(status.incoming.conflicts, 1);
    assert.equal(status.incoming.pending, 0);
    assert.equal(new Study(site).get('edc.subject', String(s.id))!.phone, '+267 73 000 003');
    const conflict = site.sql.prepare('SELECT * FROM sync_conflict').get() as RawRow;
    assert.equal(conflict.local_revision, 2);
    assert.equal(conflict.incoming_base_revision, 1);
    const keys = site.requireKeys();
    assert.equal(keys.decryptField('phone', String(JSON.parse(String(conflict.incoming_record)).phone)), '+267 72 000 002');
    assert.equal(keys.decryptField('phone', String(JSON.parse(String(conflict.local_record)).phone)), '+267 73 000 003');
    const [view] = listConflicts(site);
    assert.equal(view!.recordId, s.id);
    assert.deepEqual(view!.differences.phone, ['+267 73 000 003', '+267 72 000 002'], 'listed for review with both versions, decrypted');
    assert.equal(view!.differences.phone_hash, undefined, 'hash columns are not shown');
    assert.equal(view!.local!.user_modified, 'ra.test');
    assert.equal(view!.incoming.user_modified, 'driver');
    assert.match(view!.reason!, /made from revision 1 but this copy is at revision 2/);
  });

  it('ingest validates every envelope: malformed, seq collisions and own transactions are rejected with reasons', () => {
    const field = dirs.store('field', 'ra-81');
    new Study(field).registerSubject(registration(1), ra);
    const [good] = outgoing(field);
    const site = dirs.store('site', 'site-81');
    // Paired without a key, so the made-up envelopes below reach the seq and field checks (a key would refuse them all
    // as forged first).
    pairAt(site, { deviceId: 'ra-81' });
    const consumer = new Consumer(site);
    const r = consumer.ingest([
      good!,
      { ...good!, id: '11111111-1111-4111-8111-111111111111' },
      { ...good!, id: '22222222-2222-4222-8222-222222222222', producer: 'site-81' },
      { ...good!, id: 'not-a-uuid' },
      { ...good!, id: '33333333-3333-4333-8333-333333333333', producerSeq: -1 },
      { ...good!, id: '44444444-4444-4444-8444-444444444444', action: 'X' },
      { ...good!, id: '55555555-5555-4555-8555-555555555555', tx: '***' },
      { ...good!, id: '66666666-6666-4666-8666-666666666666', extra: 1 },
      null,
      'text',
    ], 'copy');
    assert.deepEqual(r.accepted, [good!.id]);
    assert.equal(r.rejected.length, 9);
    const reason = (id: string) => r.rejected.find((x) => x.id === id)?.reason ?? '';
    assert.match(reason('11111111-1111-4111-8111-111111111111'), /already taken/);
    assert.match(reason('22222222-2222-4222-8222-222222222222'), /is this device/);
    assert.match(reason('33333333-3333-4333-8333-333333333333'), /producerSeq/);
    assert.match(reason('44444444-4444-4444-8444-444444444444'), /action/);
    for (const x of r.rejected) assert.ok(x.reason.length > 5);
    assert.equal(readStatus(site).incoming.total, 1);
  });

  it('a field laptop refuses to receive or consume transactions', () => {
    const field = dirs.store('field', 'ra-91');
    assert.throws(() => new Consumer(field).consume(), (e) => isEdcError(e, 'ROLE_NOT_ALLOWED'));
    assert.throws(() => new Consumer(field).ingest([], 'copy'), (e) => isEdcError(e, 'ROLE_NOT_ALLOWED'));
    assert.throws(() => copyFrom(field, dirs.path('ra-11')), (e) => isEdcError(e, 'ROLE_NOT_ALLOWED'));
  });
});
