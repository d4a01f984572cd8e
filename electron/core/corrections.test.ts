/**
 * Correcting and deleting participants, consents, visits and blood tubes on the field laptop: audited updates and
 * deletes through the write path with the reason, synced (the site applies them and keeps the reason), validated
 * like entry, deletes of what depends on a record first, a deleted participant kept in the history, and a conflict
 * a delete creates at the site listed like any other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readConflictReason } from '../../shared/conflict-reason.ts';
import { isEdcError } from '../../shared/errors.ts';
import { payloadSchema } from '../../shared/envelope.ts';
import { plainMessage } from '../../shared/messages.ts';
import { createBackend } from '../app/backend.ts';
import { dispatch } from '../app/dispatch.ts';
import { callsAs } from '../app/testing.ts';
import { listConflicts } from './conflicts.ts';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { correctRecord, deletedSubjects, deleteRecord, subjectHistory } from './corrections.ts';
import { Study } from './domain/study.ts';
import { envelopeAad, type EnvelopeRow } from './envelope.ts';
import type { Store } from './store.ts';
import { pairAt, TestDirs } from './testing/fixtures.ts';

const ra = { user: 'ra.test' };
let n = 0;
const person = () => ({
  firstName: 'Lerato', lastName: `Kgosi${++n}`, dob: '1990-01-01', identityNumber: `ID-${n}-0001`, phone: '+267 71 000 001',
  gender: 'F' as const, registrationDatetime: '2026-01-05T08:00:00.000Z',
});

/** A participant with a consent, a visit with vital signs and two tubes. */
function enrolled(study: Study) {
  const s = study.registerSubject(person(), ra);
  const subjectId = String(s.id);
  const consent = study.write.insert('edc.consent', { subjectId, version: '1.0', consentDatetime: '2026-01-05T08:05:00.000Z', isLiterate: true, language: 'en' }, ra);
  const visit = study.write.insert('edc.visit', { subjectId, visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
  const visitId = String(visit.id);
  study.write.insert('edc.vital_signs', { visitId, weightKg: 60, heightCm: 160, systolic: 120, diastolic: 80, temperatureC: 36.6 }, ra);
  const tubes = ['CD4', 'Chemistry'].map((panel) => study.requisition({ visitId, panel, specimenType: panel === 'CD4' ? 'whole blood' : 'serum', drawnDatetime: '2026-01-05T08:20:00.000Z', itemCount: 1 }, ra));
  return { subjectId, consentId: String(consent.id), visitId, tubeIds: tubes.map((t) => String(t.id)) };
}

const outgoing = (store: Store, since = 0) =>
  (store.sql.prepare('SELECT * FROM outgoing_transaction WHERE producer_seq > ? ORDER BY producer_seq').all(since) as EnvelopeRow[]).map((row) => ({
    row, payload: payloadSchema.parse(JSON.parse(store.requireKeys().decrypt(row.key_id, row.tx, envelopeAad(row)).toString('utf8'))),
  }));
const lastSeq = (store: Store) => (store.sql.prepare('SELECT coalesce(max(producer_seq), 0) AS n FROM outgoing_transaction').get() as { n: number }).n;
const count = (store: Store, table: string) => (store.sql.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;

describe('corrections and deletes', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('a participant’s personal details are corrected: audited with the reason, synced, applied at the site with it', () => {
    const field = dirs.store('field', 'ra-c1');
    const site = dirs.store('site', 'site-c1');
    pairAt(site, field);
    const study = new Study(field);
    const { subjectId } = enrolled(study);
    const seq = lastSeq(field);
    const row = correctRecord(field, study, { kind: 'subject', id: subjectId, reason: 'surname misspelt at registration', changes: { lastName: 'Kgositsile', phone: '+267 72 111 222', dob: '1990-01-10' } }, ra);
    assert.equal(row.revision, 2);
    const now = study.get('edc.subject', subjectId)!;
    assert.deepEqual([now.last_name, now.phone, now.dob], ['Kgositsile', '+267 72 111 222', '1990-01-10']);
    const stored = field.sql.prepare('SELECT last_name, phone FROM subject WHERE id = ?').get(subjectId) as { last_name: string; phone: string };
    assert.ok(stored.last_name.startsWith('enc1:') && stored.phone.startsWith('enc1:'), 'corrected PII is stored encrypted');
    assert.equal(study.findSubjectsByIdentityNumber(String(now.identity_number)).length, 1);

    const [tx, ...more] = outgoing(field, seq);
    assert.equal(more.length, 0);
    assert.equal(tx!.row.action, 'U');
    assert.equal(tx!.payload.history.reason, 'surname misspelt at registration');
    assert.ok(!tx!.row.tx.includes(Buffer.from('Kgositsile')), 'what leaves the laptop is ciphertext');

    const hist = subjectHistory(field, subjectId).filter((h) => h.action === 'U');
    assert.equal(hist.length, 1);
    assert.equal(hist[0]!.reason, 'surname misspelt at registration');
    assert.equal(hist[0]!.what, String(now.subject_identifier));
    assert.deepEqual(hist[0]!.changes!.lastName![1], 'Kgositsile');
    assert.deepEqual(hist[0]!.changes!.phone, ['+267 71 000 001', '+267 72 111 222']);
    assert.equal('lastNameHash' in hist[0]!.changes!, false, 'lookup hashes are not history a person reads');

    copyFrom(site, field.dir);
    const r = new Consumer(site).consume();
    assert.deepEqual([r.errors, r.conflicts], [0, 0]);
    const there = new Study(site).get('edc.subject', subjectId)!;
    assert.deepEqual([there.last_name, there.phone, there.revision], ['Kgositsile', '+267 72 111 222', 2]);
    const siteHist = site.sql.prepare(`SELECT reason FROM audit_history WHERE record_id = ? AND action = 'U'`).get(subjectId) as { reason: string };
    assert.equal(siteHist.reason, 'surname misspelt at registration');
  });

  it('refusals write nothing: no reason, invalid like at entry, nothing changed, unknown record', () => {
    const field = dirs.store('field', 'ra-c2');
    const study = new Study(field);
    const { subjectId, visitId } = enrolled(study);
    const seq = lastSeq(field);
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return isEdcError(e) ? e.code : String(e);
      }
    };
    assert.equal(code(() => correctRecord(field, study, { kind: 'subject', id: subjectId, reason: ' ', changes: { lastName: 'X' } }, ra)), 'INPUT_INVALID');
    assert.equal(code(() => correctRecord(field, study, { kind: 'subject', id: subjectId, reason: 'typo', changes: { dob: '1990-02-30' } }, ra)), 'RECORD_INVALID');
    assert.equal(code(() => correctRecord(field, study, { kind: 'subject', id: subjectId, reason: 'typo', changes: { firstName: '  ' } }, ra)), 'RECORD_INVALID');
    assert.equal(code(() => correctRecord(field, study, { kind: 'subject', id: subjectId, reason: 'typo', changes: { firstName: 'Lerato' } }, ra)), 'RECORD_UNCHANGED');
    assert.equal(code(() => correctRecord(field, study, { kind: 'visit', id: subjectId, reason: 'typo', changes: { reason: 'missed' } }, ra)), 'RECORD_NOT_FOUND');
    // A second visit 1000 for the participant: its natural key is taken.
    study.write.insert('edc.visit', { subjectId, visitCode: '2000', visitCodeSequence: 0, visitDatetime: '2026-02-05T08:10:00.000Z', reason: 'scheduled' }, ra);
    const seq2 = lastSeq(field);
    assert.equal(code(() => correctRecord(field, study, { kind: 'visit', id: visitId, reason: 'wrong visit chosen', changes: { visitCode: '2000' } }, ra)), 'NATURAL_KEY_TAKEN');
    assert.equal(code(() => deleteRecord(field, study, 'visit', visitId, 'no', ra)), 'INPUT_INVALID');
    assert.equal(lastSeq(field), seq2);
    assert.equal(seq2, seq + 1, 'only the second visit was written');
  });

  it('deleting a participant deletes what was recorded for them first, each synced with the reason; the history keeps it all', () => {
    const field = dirs.store('field', 'ra-c3');
    const site = dirs.store('site', 'site-c3');
    pairAt(site, field);
    const study = new Study(field);
    const { subjectId, consentId, visitId, tubeIds } = enrolled(study);
    const other = enrolled(study);
    copyFrom(site, field.dir);
    new Consumer(site).consume();
    const seq = lastSeq(field);

    assert.equal(deleteRecord(field, study, 'subject', subjectId, 'registered twice by mistake', ra), 6);
    const txs = outgoing(field, seq);
    assert.deepEqual(txs.map((t) => [t.row.tx_name, t.row.action]), [
      ['edc.specimen_requisition', 'D'], ['edc.specimen_requisition', 'D'], ['edc.vital_signs', 'D'], ['edc.visit', 'D'], ['edc.consent', 'D'], ['edc.subject', 'D'],
    ], 'children before parents');
    assert.ok(txs.every((t) => t.payload.history.reason === 'registered twice by mistake'));
    assert.equal(study.get('edc.subject', subjectId), undefined);
    for (const [table, left] of [['subject', 1], ['consent', 1], ['visit', 1], ['vital_signs', 1], ['specimen_requisition', 2]] as const) assert.equal(count(field, table), left, table);
    assert.ok(study.get('edc.subject', other.subjectId), 'the other participant is untouched');

    const hist = subjectHistory(field, subjectId);
    assert.equal(hist.filter((h) => h.action === 'I').length, 6);
    assert.deepEqual(hist.filter((h) => h.action === 'D').map((h) => h.recordId).sort(), [subjectId, consentId, visitId, ...tubeIds, hist.find((h) => h.txName === 'edc.vital_signs')!.recordId].sort());
    assert.equal(hist.find((h) => h.txName === 'edc.visit')!.what, '1000');
    assert.equal(hist.find((h) => h.txName === 'edc.consent')!.what, '1.0');
    assert.ok(hist.every((h) => !h.recordId || !other.tubeIds.includes(h.recordId)), 'only this participant’s records');

    const deleted = deletedSubjects(field, 0, 25);
    assert.equal(deleted.total, 1);
    assert.deepEqual({ ...deleted.rows[0]!, deletedAt: '' }, {
      id: subjectId, subjectIdentifier: hist.find((h) => h.txName === 'edc.subject')!.what, firstName: 'Lerato', lastName: `Kgosi${n - 1}`, deletedAt: '', deletedBy: 'ra.test', reason: 'registered twice by mistake',
    });

    copyFrom(site, field.dir);
    const r = new Consumer(site).consume();
    assert.deepEqual([r.applied, r.errors, r.conflicts], [6, 0, 0]);
    assert.equal(new Study(site).get('edc.subject', subjectId), undefined);
    assert.equal(count(site, 'specimen_requisition'), 2);
    const reasons = site.sql.prepare(`SELECT DISTINCT reason FROM audit_history WHERE action = 'D'`).all() as { reason: string }[];
    assert.deepEqual(reasons.map((x) => x.reason), ['registered twice by mistake']);
  });

  it('a delete of a participant changed meanwhile by a middleman arrives at the site as a conflict', () => {
    const field = dirs.store('field', 'ra-c4');
    const middleman = dirs.store('middleman', 'mm-c4');
    const site = dirs.store('site', 'site-c4');
    pairAt(site, field, middleman);
    const study = new Study(field);
    const s = study.registerSubject(person(), ra);
    const id = String(s.id);
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    new Study(middleman).write.update('edc.subject', id, { phone: '+267 72 000 002' }, { user: 'driver' });
    copyFrom(site, field.dir);
    copyFrom(site, middleman.dir);
    assert.equal(new Consumer(site).consume().conflicts, 0);
    deleteRecord(field, study, 'subject', id, 'withdrew before consent', ra);
    copyFrom(site, field.dir);
    assert.equal(new Consumer(site).consume().conflicts, 1);
    const [c] = listConflicts(site);
    assert.equal(c!.recordId, id);
    assert.match(c!.reason!, /deleted from revision 1/);
    assert.equal(c!.kind, 'delete-changed');
    assert.deepEqual(readConflictReason(c!.reason)?.kind, c!.kind, 'the screens read the stored reason as the same kind');
    assert.equal(c!.label, String(s.subject_identifier));
    assert.equal(c!.canTakeIncoming, true);
  });

  it('a middleman’s change of a participant the laptop deleted arrives at the site as a conflict of that kind', () => {
    const field = dirs.store('field', 'ra-c6');
    const middleman = dirs.store('middleman', 'mm-c6');
    const site = dirs.store('site', 'site-c6');
    pairAt(site, field, middleman);
    const study = new Study(field);
    const s = study.registerSubject(person(), ra);
    const id = String(s.id);
    copyFrom(middleman, field.dir);
    new Consumer(middleman).consume();
    new Study(middleman).write.update('edc.subject', id, { phone: '+267 72 000 002' }, { user: 'driver' });
    deleteRecord(field, study, 'subject', id, 'registered twice', ra);
    copyFrom(site, field.dir);
    assert.equal(new Consumer(site).consume().conflicts, 0);
    copyFrom(site, middleman.dir);
    assert.equal(new Consumer(site).consume().conflicts, 1);
    const [c] = listConflicts(site);
    assert.deepEqual([c!.kind, c!.label, c!.canTakeIncoming], ['update-deleted', String(s.subject_identifier), false]);
    assert.deepEqual(readConflictReason(c!.reason)?.kind, c!.kind, 'the screens read the stored reason as the same kind');
  });

  it('through the app contract: correct a consent, a visit and a tube, delete one tube; mistakes in plain words', async () => {
    const field = dirs.store('field', 'ra-c5');
    const backend = createBackend({ dataDir: field.dir, host: 'desktop', emit: () => {}, store: field });
    const api = callsAs(backend, { username: 'ra', role: null });
    const { subjectId, consentId, visitId, tubeIds } = enrolled(new Study(field));
    assert.equal((await api.call('records.correct', { kind: 'consent', id: consentId, reason: 'the form was in Setswana', changes: { language: 'tn', isLiterate: false } })).revision, 2);
    assert.equal((await api.call('records.correct', { kind: 'visit', id: visitId, reason: 'came a day late', changes: { reason: 'unscheduled' } })).revision, 2);
    assert.equal((await api.call('records.correct', { kind: 'requisition', id: tubeIds[1]!, reason: 'wrong test ticked', changes: { panel: 'Stored plasma', specimenType: 'plasma' } })).revision, 2);
    assert.equal((await api.call('records.delete', { kind: 'requisition', id: tubeIds[0]!, reason: 'tube broke before the draw' })).deleted, 1);
    const detail = await api.call('subjects.get', { id: subjectId });
    assert.deepEqual([detail.consents[0]!.language, detail.consents[0]!.isLiterate], ['tn', false]);
    assert.equal(detail.visits[0]!.reason, 'unscheduled');
    assert.deepEqual(detail.visits[0]!.requisitions.map((r) => [r.id, r.panel, r.specimenType]), [[tubeIds[1], 'Stored plasma', 'plasma']]);
    const { entries } = await api.call('records.history', { subjectId });
    assert.deepEqual(entries.filter((e) => e.action !== 'I').map((e) => [e.txName, e.action, e.reason]), [
      ['edc.consent', 'U', 'the form was in Setswana'], ['edc.visit', 'U', 'came a day late'],
      ['edc.specimen_requisition', 'U', 'wrong test ticked'], ['edc.specimen_requisition', 'D', 'tube broke before the draw'],
    ]);
    assert.deepEqual(entries.find((e) => e.txName === 'edc.consent' && e.action === 'U')!.changes, { isLiterate: [true, false], language: ['en', 'tn'] });

    // A specimen the test does not take, a bad version, no reason: refused at the field with its sentence.
    const wrong = await api.fail('records.correct', { kind: 'requisition', id: tubeIds[1]!, reason: 'wrong test', changes: { panel: 'CD4', specimenType: 'serum' } });
    assert.equal(wrong, 'INPUT_INVALID');
    assert.equal(await api.fail('records.correct', { kind: 'consent', id: consentId, reason: 'typo', changes: { version: 'one' } }), 'INPUT_INVALID');
    assert.equal(plainMessage('records.correct', { code: 'INPUT_INVALID', message: '', field: 'changes.version' }).key, 'entry.consentVersionInvalid');
    assert.equal(plainMessage('records.correct', { code: 'INPUT_INVALID', message: '', field: 'changes.firstName' }).key, 'entry.needFirstName');
    assert.equal(plainMessage('records.correct', { code: 'INPUT_INVALID', message: '', field: 'reason' }).key, 'entry.needReason');
    assert.equal(plainMessage('records.delete', { code: 'INPUT_INVALID', message: '', field: 'reason' }).key, 'entry.needReason');
    assert.equal(plainMessage('records.correct', { code: 'RECORD_UNCHANGED', message: '' }).key, 'errors.RECORD_UNCHANGED');
    assert.equal(plainMessage('records.correct', { code: 'NATURAL_KEY_TAKEN', message: '' }).key, 'entry.correctTaken');
    assert.equal(await api.fail('records.delete', { kind: 'subject', id: subjectId, reason: '' }), 'INPUT_INVALID');
    const site = dirs.store('site', 'site-c5');
    const siteApi = callsAs(createBackend({ dataDir: site.dir, host: 'web', emit: () => {}, store: site }), { username: 'dm', role: 'data-manager' });
    assert.equal(await siteApi.fail('records.delete', { kind: 'subject', id: subjectId, reason: 'not here' }), 'ROLE_NOT_ALLOWED');
    assert.equal(await callsAs(backend, { username: 'lab', role: 'lab-assistant' }).fail('records.delete', { kind: 'subject', id: subjectId, reason: 'not allowed' }), 'PERMISSION_DENIED');
  });
  it('when a consent was given and a visit took place, a tube’s count, and a visit’s two forms deleted alone: checked, audited, synced', async () => {
    const field = dirs.store('field', 'ra-c7');
    const site = dirs.store('site', 'site-c7');
    pairAt(site, field);
    const backend = createBackend({ dataDir: field.dir, host: 'desktop', emit: () => {}, store: field });
    const api = callsAs(backend, { username: 'ra', role: null });
    const study = new Study(field);
    const { subjectId, consentId, visitId, tubeIds } = enrolled(study);
    const history = study.write.insert('edc.medical_history', { visitId, hypertension: true, diabetes: false, hivStatus: 'unknown', currentMedications: null }, ra);
    const vitalsId = String((field.sql.prepare('SELECT id FROM vital_signs WHERE visit_id = ?').get(visitId) as { id: string }).id);
    copyFrom(site, field.dir);
    assert.equal(new Consumer(site).consume().errors, 0);
    const seq = lastSeq(field);

    // Times: later than now, or before the day of registration, are refused at their field with a sentence; a real one is kept.
    const later = new Date(Date.now() + 3 * 3600_000).toISOString();
    for (const [kind, id, changes, field2] of [
      ['consent', consentId, { consentDatetime: later }, 'changes.consentDatetime'],
      ['consent', consentId, { consentDatetime: '2026-01-03T09:00:00.000Z' }, 'changes.consentDatetime'],
      ['visit', visitId, { visitDatetime: later }, 'changes.visitDatetime'],
      ['visit', visitId, { visitDatetime: '2026-01-03T09:00:00.000Z' }, 'changes.visitDatetime'],
    ] as const) {
      const r = await dispatch(backend, { username: 'ra', role: null }, 'records.correct', { kind, id, reason: 'time as on the paper form', changes });
      assert.ok(!r.ok && r.error.code === 'INPUT_INVALID' && r.error.field === field2, `${kind} ${JSON.stringify(changes)}`);
      assert.equal(plainMessage('records.correct', r.error).key, 'corrections.timeRefused');
    }
    assert.equal(lastSeq(field), seq, 'a refused correction writes nothing');
    assert.equal((await api.call('records.correct', { kind: 'consent', id: consentId, reason: 'signed at 09:30 on the paper form', changes: { consentDatetime: '2026-01-05T09:30:00.000Z' } })).revision, 2);
    assert.equal((await api.call('records.correct', { kind: 'visit', id: visitId, reason: 'seen at 10:00', changes: { visitDatetime: '2026-01-05T10:00:00.000Z' } })).revision, 2);

    // A tube's count: the entry rule (a whole number from 1 to 20).
    assert.equal(await api.fail('records.correct', { kind: 'requisition', id: tubeIds[0]!, reason: 'counted again', changes: { itemCount: 0 } }), 'INPUT_INVALID');
    assert.equal(plainMessage('records.correct', { code: 'INPUT_INVALID', message: '', field: 'changes.itemCount' }).key, 'corrections.tubeCountInvalid');
    assert.equal((await api.call('records.correct', { kind: 'requisition', id: tubeIds[0]!, reason: 'two tubes under one label', changes: { itemCount: 2 } })).revision, 2);

    // The visit's forms, each alone: the visit, its tubes and the other form stay.
    assert.equal((await api.call('records.delete', { kind: 'vitalSigns', id: vitalsId, reason: 'measured on another participant' })).deleted, 1);
    assert.equal((await api.call('records.delete', { kind: 'medicalHistory', id: String(history.id), reason: 'entered for the wrong visit' })).deleted, 1);
    assert.equal(await api.fail('records.delete', { kind: 'vitalSigns', id: vitalsId, reason: 'again' }), 'RECORD_NOT_FOUND');
    const detail = await api.call('subjects.get', { id: subjectId });
    assert.equal(detail.consents[0]!.consentDatetime, '2026-01-05T09:30:00.000Z');
    assert.equal(detail.visits[0]!.visitDatetime, '2026-01-05T10:00:00.000Z');
    assert.deepEqual([detail.visits[0]!.vitalSigns, detail.visits[0]!.medicalHistory], [null, null]);
    assert.deepEqual(Object.fromEntries(detail.visits[0]!.requisitions.map((r) => [r.id, r.itemCount])), { [tubeIds[0]!]: 2, [tubeIds[1]!]: 1 });
    const { entries } = await api.call('records.history', { subjectId });
    // (Changes within one millisecond are ordered by revision there, so compared as a set.)
    assert.deepEqual(entries.filter((e) => e.action !== 'I').map((e) => [e.txName, e.action, e.reason]).sort(), [
      ['edc.consent', 'U', 'signed at 09:30 on the paper form'], ['edc.visit', 'U', 'seen at 10:00'], ['edc.specimen_requisition', 'U', 'two tubes under one label'],
      ['edc.vital_signs', 'D', 'measured on another participant'], ['edc.medical_history', 'D', 'entered for the wrong visit'],
    ].sort());
    assert.deepEqual(entries.find((e) => e.txName === 'edc.specimen_requisition' && e.action === 'U')!.changes, { itemCount: [1, 2] });

    // Synced: the site applies them, each with its reason.
    assert.deepEqual(outgoing(field, seq).map((x) => [x.row.tx_name, x.row.action, x.payload.history.reason]), [
      ['edc.consent', 'U', 'signed at 09:30 on the paper form'], ['edc.visit', 'U', 'seen at 10:00'], ['edc.specimen_requisition', 'U', 'two tubes under one label'],
      ['edc.vital_signs', 'D', 'measured on another participant'], ['edc.medical_history', 'D', 'entered for the wrong visit'],
    ]);
    copyFrom(site, field.dir);
    const r = new Consumer(site).consume();
    assert.deepEqual([r.errors, r.conflicts], [0, 0]);
    assert.deepEqual([count(site, 'vital_signs'), count(site, 'medical_history'), count(site, 'visit'), count(site, 'specimen_requisition')], [0, 0, 1, 2]);
    const there = new Study(site);
    assert.equal(there.get('edc.consent', consentId)!.consent_datetime, '2026-01-05T09:30:00.000Z');
    assert.equal(there.get('edc.specimen_requisition', tubeIds[0]!)!.item_count, 2);
  });
  it('a visit moved to a later day than its tubes were drawn is refused at the date until their draw times are corrected', async () => {
    const field = dirs.store('field', 'ra-c8');
    const backend = createBackend({ dataDir: field.dir, host: 'desktop', emit: () => {}, store: field });
    const api = callsAs(backend, { username: 'ra', role: null });
    const { visitId, tubeIds } = enrolled(new Study(field));
    const seq = lastSeq(field);
    // Two days later: in any time zone, both tubes (5 Jan, 08:20 UTC) would be drawn before the visit's day.
    const moved = { kind: 'visit', id: visitId, reason: 'the visit was two days later', changes: { visitDatetime: '2026-01-07T09:00:00.000Z' } } as const;
    const r = await dispatch(backend, { username: 'ra', role: null }, 'records.correct', moved);
    assert.ok(!r.ok && r.error.code === 'VISIT_AFTER_TUBES' && r.error.field === 'changes.visitDatetime', JSON.stringify(r));
    assert.equal(plainMessage('records.correct', r.error).key, 'errors.VISIT_AFTER_TUBES');
    assert.equal(lastSeq(field), seq, 'a refused correction writes nothing');
    // Later on the same day stays accepted (the tubes are still on the visit's day).
    assert.equal((await api.call('records.correct', { kind: 'visit', id: visitId, reason: 'seen at 08:15', changes: { visitDatetime: '2026-01-05T08:15:00.000Z' } })).revision, 2);
    // One tube's draw time corrected to the new day: the other still holds the visit back; both corrected, it moves.
    await api.call('requisitions.correctDrawTime', { id: tubeIds[0]!, drawnDatetime: '2026-01-07T09:20:00.000Z', reason: 'drawn at the second visit' });
    assert.equal(await api.fail('records.correct', moved), 'VISIT_AFTER_TUBES');
    await api.call('requisitions.correctDrawTime', { id: tubeIds[1]!, drawnDatetime: '2026-01-07T09:20:00.000Z', reason: 'drawn at the second visit' });
    assert.equal((await api.call('records.correct', moved)).revision, 3);
  });
});
