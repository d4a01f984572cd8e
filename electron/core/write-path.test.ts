import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { workload } from '../../scripts/bench-workload.ts';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { Study } from './domain/study.ts';
import type { RawRow } from './envelope.ts';
import { pairAt, TestDirs } from './testing/fixtures.ts';
import type { Store } from './store.ts';

const ra = { user: 'ra.test' };
const registration = {
  firstName: 'Kagiso', lastName: 'Molefe', dob: '1990-04-02', identityNumber: '123456789', phone: '+267 71 234 567',
  gender: 'F' as const, registrationDatetime: '2026-01-05T08:00:00.000Z',
};

function counts(store: Store): { history: number; outgoing: number; seqs: number[] } {
  const history = (store.sql.prepare('SELECT count(*) AS n FROM audit_history').get() as { n: number }).n;
  const seqs = (store.sql.prepare('SELECT producer_seq FROM outgoing_transaction ORDER BY producer_seq').all() as { producer_seq: number }[]).map((r) => r.producer_seq);
  return { history, outgoing: seqs.length, seqs };
}

describe('write path', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('insert, update and delete each write row, history and an encrypted outgoing transaction, seq gap-free', () => {
    const store = dirs.store('field', 'ra-01');
    const study = new Study(store);
    const s = study.registerSubject(registration, ra);
    const visit = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
    const vitals = study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 61.5, heightCm: 165, systolic: 120, diastolic: 80, temperatureC: 36.6 }, ra);
    const updated = study.write.update('edc.vital_signs', String(vitals.id), { weightKg: 62 }, ra);
    assert.equal(updated.revision, 2);
    assert.equal(updated.weight_kg, 62);
    study.write.delete('edc.vital_signs', String(vitals.id), ra);
    const c = counts(store);
    assert.deepEqual(c.seqs, [1, 2, 3, 4, 5]);
    assert.equal(c.history, 5);
    const history = store.sql.prepare("SELECT action, revision, changes, transaction_id FROM audit_history WHERE tx_name = 'edc.vital_signs' ORDER BY revision").all() as RawRow[];
    assert.deepEqual(history.map((h) => h.action), ['I', 'U', 'D']);
    assert.deepEqual(JSON.parse(String(history[1]!.changes)).weight_kg, [61.5, 62]);
    const out = store.sql.prepare('SELECT id, action, tx_pk, key_id, tx FROM outgoing_transaction ORDER BY producer_seq').all() as { id: string; action: string; tx_pk: string; key_id: string; tx: Buffer }[];
    assert.deepEqual(out.map((o) => o.action), ['I', 'I', 'I', 'U', 'D']);
    assert.equal(out[2]!.tx_pk, vitals.id);
    assert.deepEqual(history.map((h) => h.transaction_id), out.slice(2).map((o) => o.id));
    for (const o of out) {
      assert.equal(o.key_id, dirs.keys.activeKeyId);
      assert.ok(!o.tx.includes('Kagiso') && !o.tx.includes('weight_kg'), 'payload is ciphertext');
    }
  });

  it('an update that changes nothing writes nothing', () => {
    const store = dirs.store('field', 'ra-02');
    const study = new Study(store);
    const s = study.registerSubject(registration, ra);
    const before = counts(store);
    study.write.update('edc.subject', String(s.id), { firstName: 'Kagiso', gender: 'F' }, ra);
    assert.deepEqual(counts(store), before);
    study.write.update('edc.subject', String(s.id), { firstName: 'Kago' }, ra);
    assert.equal(counts(store).outgoing, before.outgoing + 1);
    assert.equal(study.get('edc.subject', String(s.id))!.first_name, 'Kago');
  });

  it('nothing can write a synced table except the write path', () => {
    const store = dirs.store('field', 'ra-03');
    const study = new Study(store);
    const s = study.registerSubject(registration, ra);
    assert.throws(() => store.sql.prepare("UPDATE subject SET gender = 'M' WHERE id = ?").run(s.id), /WRITE_OUTSIDE_PATH/);
    assert.throws(() => store.sql.prepare('DELETE FROM subject').run(), /WRITE_OUTSIDE_PATH/);
    assert.throws(() => store.sql.prepare('DELETE FROM audit_history').run(), /append-only/);
    assert.throws(() => store.sql.prepare(`INSERT INTO consent (id, created, modified, user_created, user_modified, hostname_created, hostname_modified, device_id, revision, subject_id, version, consent_datetime, is_literate, language)
      VALUES ('x', '', '', '', '', '', '', '', 1, ?, '1', '', 1, 'en')`).run(String(s.id)), /WRITE_OUTSIDE_PATH/);
    assert.equal((store.sql.prepare('SELECT gender FROM subject').get() as RawRow).gender, 'F');
  });

  it('a failed write leaves no row, no history, no transaction and no gap in the sequence', () => {
    const store = dirs.store('field', 'ra-04');
    const study = new Study(store);
    const s = study.registerSubject(registration, ra);
    const consent = { subjectId: String(s.id), version: '1.0', consentDatetime: '2026-01-05T08:05:00.000Z', isLiterate: true, language: 'en' };
    study.write.insert('edc.consent', consent, ra);
    const before = counts(store);
    assert.throws(() => study.write.insert('edc.consent', consent, ra), (e) => isEdcError(e, 'NATURAL_KEY_TAKEN'));
    assert.throws(() => study.write.insert('edc.visit', { subjectId: '00000000-0000-4000-8000-000000000000', visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra),
      (e) => isEdcError(e, 'RECORD_INVALID'));
    assert.throws(() => study.write.delete('edc.subject', String(s.id), ra), (e) => isEdcError(e, 'HAS_CHILDREN'));
    assert.throws(() => study.write.insert('edc.vital_signs', { visitId: 'not-a-uuid' } as never, ra), (e) => isEdcError(e, 'RECORD_INVALID'));
    assert.throws(() => study.write.update('edc.subject', String(s.id), { dob: 'yesterday' }, ra), (e) => isEdcError(e, 'RECORD_INVALID'));
    assert.throws(() => study.write.update('edc.subject', String(s.id), { subjectIdentifier: 'X' } as never, ra), (e) => isEdcError(e, 'RECORD_INVALID'));
    assert.throws(() => study.write.update('edc.subject', '00000000-0000-4000-8000-000000000000', { gender: 'M' }, ra), (e) => isEdcError(e, 'RECORD_NOT_FOUND'));
    assert.deepEqual(counts(store), before);
    study.write.insert('edc.consent', { ...consent, version: '2.0' }, ra);
    assert.deepEqual(counts(store).seqs, [...before.seqs, before.seqs.length + 1]);
  });

  it('a batch is all or nothing', () => {
    const store = dirs.store('field', 'ra-05');
    const study = new Study(store);
    assert.throws(() => study.write.batch(() => {
      study.registerSubject(registration, ra);
      study.registerSubject({ ...registration, dob: 'bad' }, ra);
    }), (e) => isEdcError(e, 'RECORD_INVALID'));
    assert.deepEqual(counts(store), { history: 0, outgoing: 0, seqs: [] });
    assert.equal(store.getState('counter:subject'), null, 'identifier counter rolled back too');
  });

  it('allowModelSerialization false: rows and history, no outgoing transactions', () => {
    const store = dirs.store('field', 'ra-06');
    store.saveSettings({ ...store.settings, allowModelSerialization: false });
    const study = new Study(store);
    study.registerSubject(registration, ra);
    const c = counts(store);
    assert.equal(c.history, 1);
    assert.equal(c.outgoing, 0);
  });

  it('without a key set nothing is written, and PII is never stored in plaintext instead', () => {
    const store = dirs.store('field', 'ra-07', { keys: null });
    const study = new Study(store);
    assert.throws(() => study.registerSubject(registration, ra), (e) => isEdcError(e, 'KEYS_MISSING'));
    assert.equal((store.sql.prepare('SELECT count(*) AS n FROM subject').get() as { n: number }).n, 0);
  });

  it('PII is stored as ciphertext with a lookup hash, found by exact lookup', () => {
    const store = dirs.store('field', 'ra-08');
    const study = new Study(store);
    const s = study.registerSubject(registration, ra);
    const raw = store.sql.prepare('SELECT * FROM subject WHERE id = ?').get(s.id) as RawRow;
    for (const col of ['first_name', 'last_name', 'dob', 'identity_number', 'phone']) assert.match(String(raw[col]), /^enc1:/);
    const found = study.findSubjectsByIdentityNumber(' 123456789 ');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.last_name, 'Molefe');
    assert.match(String(found[0]!.subject_identifier), /^S01-RA08-00001-[0-9A-Z]$/);
  });
  it('the follow-up CRF (the bench workload): PII encrypted, a 4-field update, applied at a site as written', () => {
    const store = dirs.store('field', 'ra-09');
    const study = new Study(store);
    const w = workload(10);
    const rows = Array.from({ length: 10 }, (_, i) => study.write.insert('edc.follow_up', w.create(i), ra));
    const u = w.update(0);
    const updated = study.write.update('edc.follow_up', String(rows[u.index]!.id), u.patch, ra);
    assert.equal(updated.revision, 2);
    assert.equal(updated.comment, u.patch.comment);
    const raw = store.sql.prepare('SELECT * FROM follow_up WHERE id = ?').get(rows[u.index]!.id) as RawRow;
    assert.match(String(raw.contact_name), /^enc1:/);
    assert.match(String(raw.contact_phone), /^enc1:/);
    const payloads = store.sql.prepare('SELECT tx FROM outgoing_transaction').all() as { tx: Buffer }[];
    for (const p of payloads) assert.ok(!p.tx.includes(String(w.create(u.index).contactName)) && !p.tx.includes('subject_identifier'), 'payload is ciphertext');
    assert.throws(() => study.write.insert('edc.follow_up', w.create(0), ra), (e) => isEdcError(e, 'NATURAL_KEY_TAKEN'));
    assert.throws(() => store.sql.prepare('DELETE FROM follow_up').run(), /WRITE_OUTSIDE_PATH/);

    const site = dirs.store('site', 'site-09');
    pairAt(site, store);
    copyFrom(site, store.dir);
    assert.equal(new Consumer(site).consume().applied, 11);
    assert.deepEqual(site.sql.prepare('SELECT * FROM follow_up WHERE id = ?').get(rows[u.index]!.id), raw);
  });
});
