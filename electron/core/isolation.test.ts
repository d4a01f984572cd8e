/**
 * Failure isolation in the consumer (real stores): a transaction that cannot apply never holds its producer; what
 * depends on it is blocked (visible, with the reason), the cursor moves on; a retry after the fix applies the failed
 * one and then its dependants in producerSeq order; a resent good copy replaces a bad one; a deferral that can
 * never resolve becomes an error; a parent still on its way from another producer stays a deferral with its age.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WireEnvelope } from '../../shared/envelope.ts';
import { isEdcError } from '../../shared/errors.ts';
import { Consumer } from './consumer.ts';
import { KEYSET_FILE, writeKeySetFile } from './crypto/keyset.ts';
import { envelopeAad } from './envelope.ts';
import { Study } from './domain/study.ts';
import { seed } from './seed.ts';
import { Store } from './store.ts';
import { readStatus } from './status.ts';
import { damage, outgoingWire, pairAt, snapshot, TestDirs } from './testing/fixtures.ts';

const ra = { user: 'ra.test' };


function subjectInput(n: number) {
  return { firstName: `Name${n}`, lastName: 'Tau', dob: '1991-02-03', identityNumber: `8100${n}0000`, phone: null, gender: 'M' as const, registrationDatetime: '2026-01-05T08:00:00.000Z' };
}

describe('failure isolation', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a damaged visit: its children are blocked, the producer moves on; the good copy replaces it and everything applies in order', () => {
    const field = dirs.store('field', 'ra-i1');
    seed(field, 12, { seed: 7 });
    const txs = outgoingWire(field);
    const visitTx = txs.find((t) => t.txName === 'edc.visit' && t.action === 'I')!;
    const dependants = txs.filter((t) => t.producerSeq > visitTx.producerSeq && field.sql.prepare(
      `SELECT 1 FROM vital_signs WHERE id = ? AND visit_id = ? UNION SELECT 1 FROM medical_history WHERE id = ? AND visit_id = ?
       UNION SELECT 1 FROM specimen_requisition WHERE id = ? AND visit_id = ?`).get(t.txPk, visitTx.txPk, t.txPk, visitTx.txPk, t.txPk, visitTx.txPk));
    assert.ok(dependants.length >= 2, 'the visit has children (and maybe their corrections)');
    const site = dirs.store('site', 'site-i1');
    // Paired before device keys (no key on record), so the damaged ciphertext reaches the consumer; with a key on
    // record the signature refuses it at ingest (copy-trust.test, identity.test).
    pairAt(site, { deviceId: 'ra-i1' });
    const consumer = new Consumer(site);
    consumer.ingest(txs.map((t) => (t.id === visitTx.id ? damage(t) : t)), 'rest');
    const r = consumer.consume();
    assert.equal(r.errors, 1);
    assert.equal(r.blocked, dependants.length);
    assert.equal(r.applied + r.ignored, txs.length - 1 - dependants.length, 'everything else applied');
    assert.equal((site.sql.prepare('SELECT applied_seq FROM producer_cursor WHERE producer = ?').get('ra-i1') as { applied_seq: number }).applied_seq, txs.length, 'the cursor moved past the failure');
    const st = readStatus(site).incoming;
    assert.equal(st.pending, 0, 'nothing waits at the cursor');
    assert.deepEqual(st.blocked, [{ by: visitTx.id, producer: 'ra-i1', count: dependants.length, reason: st.blocked[0]!.reason }]);
    assert.match(st.blocked[0]!.reason, /^DECRYPT_FAILED/);
    assert.deepEqual(consumer.resendWanted('ra-i1'), [visitTx.id], 'an undecryptable one is asked for again');

    // More work from the laptop keeps applying behind the failure.
    seed(field, 3, { seed: 8 });
    const later = outgoingWire(field).filter((t) => t.producerSeq > txs.length);
    consumer.ingest(later, 'rest');
    assert.equal(consumer.consume().applied, later.length);

    // A retry without a fix changes nothing and loses nothing.
    const same = consumer.retryErrors();
    assert.deepEqual([same.applied, same.errors], [0, 1]);
    assert.equal(readStatus(site).incoming.blocked[0]!.count, dependants.length);

    // The laptop sends it again (same envelope, good ciphertext): it replaces the bad copy and applies, then the children.
    const re = consumer.ingest([visitTx], 'rest');
    assert.deepEqual(re.duplicates, [visitTx.id]);
    assert.deepEqual(consumer.resendWanted('ra-i1'), [], 'answered');
    const fixed = consumer.consume();
    assert.equal(fixed.applied, 1 + dependants.length);
    const after = readStatus(site).incoming;
    assert.deepEqual([after.error, after.pending, after.blocked.length, after.deferred], [0, 0, 0, 0]);
    assert.deepEqual(snapshot(site), snapshot(field), 'nothing lost, nothing duplicated');
    // Dependants applied in producerSeq order: their history rows follow the visit's.
    const order = site.sql.prepare(`SELECT i.producer_seq AS seq FROM audit_history h JOIN incoming_transaction i ON i.id = h.transaction_id
      WHERE i.id IN (${[visitTx, ...dependants].map(() => '?').join(',')}) ORDER BY h.id /* uuidv7: in the order written */`).all(...[visitTx, ...dependants].map((t) => t.id)) as { seq: number }[];
    assert.deepEqual(order.map((o) => o.seq), [visitTx, ...dependants].map((t) => t.producerSeq));
  });

  it('a rotated key not imported: what uses it fails KEY_UNKNOWN without holding the producer; after the import a retry applies all in order', () => {
    const field = dirs.store('field', 'ra-i2');
    const site = dirs.store('site', 'site-i2');
    pairAt(site, field);
    const study = new Study(field);
    study.registerSubject(subjectInput(1), ra);
    const rotated = dirs.keys.rotated();
    writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), rotated);
    field.reloadKeys();
    const s2 = study.registerSubject(subjectInput(2), ra);
    const visit = study.write.insert('edc.visit', { subjectId: String(s2.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    const vitals = study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 170, systolic: 120, diastolic: 80, temperatureC: 36.6 }, ra);
    study.write.update('edc.vital_signs', String(vitals.id), { weightKg: 61 }, ra);
    const consumer = new Consumer(site);
    consumer.ingest(outgoingWire(field), 'copy');
    const r = consumer.consume();
    // subject 1 applies; subject 2, its visit, vitals and the correction use the new key: errors, cursor past them.
    assert.deepEqual([r.applied, r.errors, r.blocked], [1, 4, 0]);
    assert.equal((site.sql.prepare('SELECT applied_seq FROM producer_cursor').get() as { applied_seq: number }).applied_seq, 5);
    assert.deepEqual(consumer.resendWanted('ra-i2'), [], 'a missing key is not fixed by another copy: not asked for');
    writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), dirs.keys.merged(rotated));
    site.reloadKeys();
    const retried = consumer.retryErrors();
    assert.equal(retried.applied, 4);
    assert.deepEqual(snapshot(site), snapshot(field));
    assert.deepEqual(readStatus(site).incoming.blocked, []);
  });

  it('two retries on one store at once (the server\'s own and a person\'s click): each failed one is applied once, no false conflict', () => {
    const field = dirs.store('field', 'ra-i6');
    const site = dirs.store('site', 'site-i6');
    pairAt(site, field);
    const study = new Study(field);
    study.registerSubject(subjectInput(50), ra);
    const rotated = dirs.keys.rotated();
    writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), rotated);
    field.reloadKeys();
    for (let n = 1; n <= 3; n++) {
      const s = study.registerSubject(subjectInput(50 + n), ra);
      study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    }
    const consumer = new Consumer(site);
    consumer.ingest(outgoingWire(field), 'copy');
    assert.equal(consumer.consume().errors, 6);
    writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), dirs.keys.merged(rotated));
    site.reloadKeys();
    // A second handle on the same store (another process or thread in the field). Its retry has read the list of
    // failed ones when the first retry runs to the end: everything it then finds was applied by the other.
    const other = Store.open(site.dir);
    try {
      let raced = false;
      const second = new Consumer(other).retryErrors(() => {
        if (raced) return;
        raced = true;
        assert.equal(consumer.retryErrors().applied, 5);
      });
      assert.deepEqual([second.applied, second.conflicts, second.errors], [1, 0, 0]);
    } finally {
      other.close();
    }
    assert.equal((site.sql.prepare('SELECT count(*) AS n FROM sync_conflict').get() as { n: number }).n, 0);
    assert.equal((site.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE is_conflict = 1 OR is_error = 1').get() as { n: number }).n, 0);
    assert.deepEqual(snapshot(site), snapshot(field));
  });

  it('a parent still on its way from another producer stays a deferral (with its age); a parent of the wrong model is an error', () => {
    const a = dirs.store('field', 'ra-i3');
    const site = dirs.store('site', 'site-i3');
    const consumer = new Consumer(site);
    const subject = new Study(a).registerSubject(subjectInput(3), ra);
    const aTxs = outgoingWire(a);
    // A middleman that holds a's subject records a visit and vital signs for it: its transactions reach the site first.
    const mid = dirs.store('middleman', 'mm-i3');
    // ra-i9: paired before device keys, so the record below, made with the study keys, reaches the consumer.
    pairAt(site, a, mid, { deviceId: 'ra-i9' });
    new Consumer(mid).ingest(aTxs, 'copy');
    new Consumer(mid).consume();
    const visit = new Study(mid).write.insert('edc.visit', { subjectId: String(subject.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    new Study(mid).write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 170, systolic: 120, diastolic: 80, temperatureC: 36.6 }, ra);
    const midTxs = outgoingWire(mid);
    consumer.ingest(midTxs, 'copy');
    const r = consumer.consume();
    assert.equal(r.deferred, 1, 'the visit waits for the subject still on its way from ra-i3');
    assert.equal(r.blocked, 0);
    const waiting = site.sql.prepare('SELECT deferred_reason, deferred_since FROM incoming_transaction WHERE id = ?').get(midTxs[0]!.id) as { deferred_reason: string; deferred_since: string };
    assert.match(waiting.deferred_reason, /waiting for parent edc\.subject/);
    assert.ok(waiting.deferred_since, 'the wait has a start (its age)');
    consumer.ingest(aTxs, 'copy');
    assert.equal(consumer.consume().applied, 3);
    assert.equal(readStatus(site).incoming.deferred, 0);

    // A vital signs form whose visit id names a subject (a record of another model): an error at once, not an eternal wait.
    const keys = site.requireKeys();
    const vitalsTx = midTxs.find((t) => t.txName === 'edc.vital_signs')!;
    const aadOf = (e: WireEnvelope) => envelopeAad({ id: e.id, producer: e.producer, producer_seq: e.producerSeq, tx_name: e.txName, tx_pk: e.txPk, action: e.action, schema_version: e.schemaVersion });
    const plain = JSON.parse(keys.decrypt(vitalsTx.keyId, Buffer.from(vitalsTx.tx, 'base64'), aadOf(vitalsTx)).toString('utf8')) as { record: Record<string, unknown> };
    const newId = '0190a0b0-0000-7000-8000-000000000001';
    plain.record.id = newId;
    plain.record.visit_id = String(subject.id);
    const env = { ...vitalsTx, id: '0190a0b0-0000-7000-8000-0000000000e1', txPk: newId, producer: 'ra-i9', producerSeq: 1 };
    consumer.ingest([{ ...env, tx: keys.encrypt(Buffer.from(JSON.stringify(plain)), aadOf(env)).blob.toString('base64') }], 'copy');
    const r3 = consumer.consume();
    assert.deepEqual([r3.errors, r3.deferred], [1, 0]);
    assert.match(String((site.sql.prepare('SELECT error FROM incoming_transaction WHERE id = ?').get(env.id) as { error: string }).error), /^PARENT_INVALID: .*is a edc\.subject/);
  });

  it('asking again for an id that is not a waiting received transaction is refused plainly', () => {
    const site = dirs.store('site', 'site-i5');
    assert.throws(() => new Consumer(site).requestResend('0190a0b0-0000-7000-8000-00000000dead'), (e) => isEdcError(e, 'TRANSACTION_UNKNOWN'));
  });
});
