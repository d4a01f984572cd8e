/**
 * Upcasters (domain/upcast.ts): a schema-1 record read as schema 2, alone and through the consumer, including an
 * older laptop's update beside a newer one's value and a payload that lies about its version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../../shared/errors.ts';
import type { WireEnvelope } from '../../../shared/envelope.ts';
import { Consumer } from '../consumer.ts';
import { envelopeAad, envelopeSignedBytes, toWire, type EnvelopeRow, type RawRow } from '../envelope.ts';
import type { Store } from '../store.ts';
import { pairAt, TestDirs } from '../testing/fixtures.ts';
import { SCHEMA_VERSION } from './registry.ts';
import { Study } from './study.ts';
import { upcast, type UpcastSteps } from './upcast.ts';

const vitals1: RawRow = { id: 'v', visit_id: 'x', weight_kg: 60, height_cm: 170, systolic: 120, diastolic: 80, temperature_c: 36.6, revision: 1 };

describe('upcast', () => {
  it('a schema-1 insert gets the added column empty; an update or delete keeps what the receiver holds', () => {
    assert.deepEqual(upcast('edc.vital_signs', vitals1, 1, 2), { ...vitals1, oxygen_saturation: null });
    assert.deepEqual(upcast('edc.vital_signs', vitals1, 1, 2, { ...vitals1, oxygen_saturation: 96 }), { ...vitals1, oxygen_saturation: 96 });
    assert.deepEqual(upcast('edc.visit', { id: 'x' }, 1, 2), { id: 'x' }, 'a model the step did not change');
    assert.deepEqual(upcast('edc.vital_signs', { ...vitals1, oxygen_saturation: 97 }, 2, 2), { ...vitals1, oxygen_saturation: 97 }, 'current: nothing to do');
  });

  it('steps run in order from the record\'s version to the current one', () => {
    const steps: UpcastSteps = {
      2: { 'edc.vital_signs': { added: { a: 0 } } },
      3: { 'edc.vital_signs': { transform: (r) => ({ ...r, a: Number(r.a) + 1 }) } },
      4: { 'edc.vital_signs': { added: { b: 'x' }, transform: (r) => ({ ...r, a: Number(r.a) * 10 }) } },
    };
    assert.deepEqual(upcast('edc.vital_signs', { id: 'v' }, 1, 4, null, steps), { id: 'v', a: 10, b: 'x' });
    assert.deepEqual(upcast('edc.vital_signs', { id: 'v', a: 5 }, 2, 4, null, steps), { id: 'v', a: 60, b: 'x' });
  });

  it('a record that claims a column its version did not have, or a step that fails, is PAYLOAD_INVALID', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isEdcError(e) ? `${e.code}: ${e.message}` : 'not an EdcError';
      }
      return 'no error';
    };
    assert.match(code(() => upcast('edc.vital_signs', { ...vitals1, oxygen_saturation: 99 }, 1, 2)), /^PAYLOAD_INVALID: a schema-1 edc.vital_signs record has oxygen_saturation, which only schema 2 has/);
    const failing: UpcastSteps = { 2: { 'edc.vital_signs': { transform: () => { throw new Error('weight in pounds is not a number'); } } } };
    assert.match(code(() => upcast('edc.vital_signs', vitals1, 1, 2, null, failing)), /^PAYLOAD_INVALID: a schema-1 edc.vital_signs record cannot be read as schema 2: weight in pounds/);
  });
});

/**
 * The laptop's own envelope rewritten as an older app version would have written it: schema 1, the record without
 * the columns schema 2 added (`keep` to leave one in: a lie about the version), encrypted and signed again.
 */
function asSchema1(laptop: Store, row: EnvelopeRow, keep: string[] = []): WireEnvelope {
  const keys = laptop.requireKeys();
  const payload = JSON.parse(keys.decrypt(row.key_id, row.tx, envelopeAad(row)).toString('utf8')) as { record: RawRow; history: { changes?: Record<string, unknown> } };
  if (!keep.includes('oxygen_saturation')) delete payload.record.oxygen_saturation;
  if (payload.history.changes) delete payload.history.changes.oxygen_saturation;
  const old = { ...row, schema_version: 1 };
  const { keyId, blob } = keys.encrypt(Buffer.from(JSON.stringify(payload)), envelopeAad(old));
  const sealed = { ...old, key_id: keyId, tx: blob };
  return toWire({ ...sealed, sig: laptop.signingKey.sign(envelopeSignedBytes(sealed)) });
}

describe('the consumer reads older payloads', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('an older laptop\'s vital signs apply with oxygen saturation empty; its later correction keeps the value a newer device set', () => {
    assert.equal(SCHEMA_VERSION, 2);
    const laptop = dirs.store('field', 'ra-u1');
    const site = dirs.store('site', 'site-u1');
    pairAt(site, laptop);
    const study = new Study(laptop);
    const ra = { user: 'ra.test' };
    const s = study.registerSubject({ firstName: 'Kago', lastName: 'Tau', dob: '1990-01-01', identityNumber: '900101000', phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
    const visit = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    const v = study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 170, systolic: 120, diastolic: 80, temperatureC: 36.6 }, ra);
    study.write.update('edc.vital_signs', String(v.id), { weightKg: 61 }, ra);
    const rows = laptop.sql.prepare('SELECT * FROM outgoing_transaction ORDER BY producer_seq').all() as EnvelopeRow[];
    const [subjectTx, visitTx, insertTx, updateTx] = rows as [EnvelopeRow, EnvelopeRow, EnvelopeRow, EnvelopeRow];
    const consumer = new Consumer(site);
    consumer.ingest([toWire(subjectTx), toWire(visitTx), asSchema1(laptop, insertTx)], 'copy');
    assert.deepEqual([consumer.consume().applied], [3]);
    const at = () => site.sql.prepare('SELECT weight_kg, oxygen_saturation, revision FROM vital_signs WHERE id = ?').get(String(v.id));
    assert.deepEqual(at(), { weight_kg: 60, oxygen_saturation: null, revision: 1 });

    // Meanwhile a newer device measured it at the site (the site's own write path, revision 2); the older laptop's
    // correction was made from revision 1, so it is a conflict to settle, never a silent wipe of the new value.
    const atSite = new Study(site);
    atSite.write.update('edc.vital_signs', String(v.id), { oxygenSaturation: 95 }, { user: 'nurse' });
    consumer.ingest([asSchema1(laptop, updateTx)], 'copy');
    const r = consumer.consume();
    assert.deepEqual([r.applied, r.conflicts], [0, 1]);
    assert.deepEqual(at(), { weight_kg: 60, oxygen_saturation: 95, revision: 2 });
  });

  it('an older laptop\'s correction of a record at the revision it saw keeps the column it could not see', () => {
    const laptop = dirs.store('field', 'ra-u2');
    const site = dirs.store('site', 'site-u2');
    pairAt(site, laptop);
    const study = new Study(laptop);
    const ra = { user: 'ra.test' };
    const s = study.registerSubject({ firstName: 'Neo', lastName: 'Tau', dob: '1990-01-01', identityNumber: '900101001', phone: null, gender: 'M', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
    const visit = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    const v = study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 170, systolic: 120, diastolic: 80, temperatureC: 36.6, oxygenSaturation: 93 }, ra);
    study.write.update('edc.vital_signs', String(v.id), { weightKg: 62 }, ra);
    const rows = laptop.sql.prepare('SELECT * FROM outgoing_transaction ORDER BY producer_seq').all() as EnvelopeRow[];
    const consumer = new Consumer(site);
    // The insert as this version wrote it; the update as if an older app had made it (a laptop downgraded, or a
    // record handed between versions): the receiver's 93 stays.
    consumer.ingest([...rows.slice(0, 3).map(toWire), asSchema1(laptop, rows[3]!)], 'copy');
    assert.deepEqual([consumer.consume().applied], [4]);
    assert.deepEqual(site.sql.prepare('SELECT weight_kg, oxygen_saturation, revision FROM vital_signs WHERE id = ?').get(String(v.id)), { weight_kg: 62, oxygen_saturation: 93, revision: 2 });
  });

  it('a payload labelled schema 1 that holds a schema-2 column is an error with the reason; the producer is not held', () => {
    const laptop = dirs.store('field', 'ra-u3');
    const site = dirs.store('site', 'site-u3');
    pairAt(site, laptop);
    const study = new Study(laptop);
    const ra = { user: 'ra.test' };
    const s = study.registerSubject({ firstName: 'Mpho', lastName: 'Tau', dob: '1990-01-01', identityNumber: '900101002', phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
    const visit = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-06T08:00:00.000Z', reason: 'scheduled' }, ra);
    study.write.insert('edc.vital_signs', { visitId: String(visit.id), weightKg: 60, heightCm: 170, systolic: 120, diastolic: 80, temperatureC: 36.6, oxygenSaturation: 93 }, ra);
    study.write.insert('edc.medical_history', { visitId: String(visit.id), hypertension: false, diabetes: false, hivStatus: 'unknown', currentMedications: null }, ra);
    const rows = laptop.sql.prepare('SELECT * FROM outgoing_transaction ORDER BY producer_seq').all() as EnvelopeRow[];
    const consumer = new Consumer(site);
    consumer.ingest([toWire(rows[0]!), toWire(rows[1]!), asSchema1(laptop, rows[2]!, ['oxygen_saturation']), toWire(rows[3]!)], 'copy');
    const r = consumer.consume();
    assert.deepEqual([r.applied, r.errors], [3, 1]);
    const failed = site.sql.prepare('SELECT error FROM incoming_transaction WHERE is_error = 1').get() as { error: string };
    assert.match(failed.error, /^PAYLOAD_INVALID: a schema-1 edc.vital_signs record has oxygen_saturation/);
  });
});
