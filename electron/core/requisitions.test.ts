/** Correcting a draw time: an audited update through the write path, synced with its reason; refusals are coded. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { payloadSchema } from '../../shared/envelope.ts';
import { setTestClockOffset } from './clock.ts';
import { Consumer } from './consumer.ts';
import { copyFrom } from './copy.ts';
import { Study } from './domain/study.ts';
import { envelopeAad, type EnvelopeRow } from './envelope.ts';
import { correctDrawTime, drawCorrections } from './requisitions.ts';
import { pairAt, TestDirs } from './testing/fixtures.ts';

const ra = { user: 'ra.test' };

describe('draw time correction', () => {
  let dirs: TestDirs;
  before(() => { dirs = new TestDirs(); });
  after(() => dirs.cleanup());

  it('writes the new time, the old one and the reason to the history and an outgoing transaction; the site gets both', () => {
    const field = dirs.store('field', 'ra-01');
    field.settings.timeZone = 'Africa/Gaborone';
    // The device clock is fixed at 11:00 on 3 Dec 2026 in Gaborone.
    setTestClockOffset(field, Date.parse('2026-12-03T09:00:00.000Z') - Date.now());
    const study = new Study(field);
    const s = study.registerSubject({ firstName: 'Neo', lastName: 'Kgosi', dob: '1990-04-02', identityNumber: '123456789', phone: null, gender: 'F', registrationDatetime: '2026-12-03T06:00:00.000Z' }, ra);
    const v = study.write.insert('edc.visit', { subjectId: String(s.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-12-03T06:10:00.000Z', reason: 'scheduled' }, ra);
    const req = study.requisition({ visitId: String(v.id), panel: 'CD4', specimenType: 'whole blood', drawnDatetime: '2026-12-03T08:45:00.000Z', itemCount: 1 }, ra);
    const id = String(req.id);
    const before = (field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;

    const codeOf = (iso: string, reason = 'typed after the visit') => {
      try {
        correctDrawTime(field, study, id, iso, reason, ra);
        return 'ok';
      } catch (e) {
        return isEdcError(e) ? e.code : String(e);
      }
    };
    assert.equal(codeOf('2026-12-03T09:30:00.000Z'), 'DRAW_TIME_IN_FUTURE');
    assert.equal(codeOf('2026-12-02T21:59:00.000Z'), 'DRAW_TIME_TOO_EARLY', '23:59 on 2 Dec in Gaborone');
    assert.equal(codeOf('2026-12-03T08:45:00.000Z'), 'DRAW_TIME_UNCHANGED');
    assert.equal((field.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n, before, 'nothing written by a refusal');

    const row = correctDrawTime(field, study, id, '2026-12-03T06:20:00.000Z', 'drawn at the household at 08:20, typed at the clinic', ra);
    assert.equal(row.drawn_datetime, '2026-12-03T06:20:00.000Z');
    assert.equal(row.revision, 2);
    const [c, ...more] = drawCorrections(field, id);
    assert.deepEqual({ ...c, at: undefined }, { from: '2026-12-03T08:45:00.000Z', to: '2026-12-03T06:20:00.000Z', reason: 'drawn at the household at 08:20, typed at the clinic', user: 'ra.test', at: undefined });
    assert.equal(more.length, 0);
    assert.ok(c!.at.startsWith('2026-12-03T09:00'), 'at: the device clock');

    // The outgoing transaction: an update carrying the change [old, new] and the reason.
    const tx = field.sql.prepare("SELECT * FROM outgoing_transaction WHERE tx_name = 'edc.specimen_requisition' AND action = 'U'").get() as EnvelopeRow;
    assert.ok(tx, 'an outgoing update');
    const payload = payloadSchema.parse(JSON.parse(field.requireKeys().decrypt(tx.key_id, tx.tx, envelopeAad(tx)).toString('utf8')));
    assert.deepEqual(payload.history.changes?.drawn_datetime, ['2026-12-03T08:45:00.000Z', '2026-12-03T06:20:00.000Z']);
    assert.equal(payload.history.reason, 'drawn at the household at 08:20, typed at the clinic');
    assert.equal(payload.baseRevision, 1);

    const site = dirs.store('site', 'site-01');
    pairAt(site, field);
    copyFrom(site, field.dir);
    const r = new Consumer(site).consume();
    assert.equal(r.errors, 0);
    assert.equal((site.sql.prepare('SELECT drawn_datetime FROM specimen_requisition WHERE id = ?').get(id) as { drawn_datetime: string }).drawn_datetime, '2026-12-03T06:20:00.000Z');
    assert.deepEqual(drawCorrections(site, id).map((c) => [c.from, c.to, c.reason, c.user]), [['2026-12-03T08:45:00.000Z', '2026-12-03T06:20:00.000Z', 'drawn at the household at 08:20, typed at the clinic', 'ra.test']]);
  });

  it('an unknown requisition is RECORD_NOT_FOUND', () => {
    const field = dirs.store('field', 'ra-02');
    assert.throws(() => correctDrawTime(field, new Study(field), '0190a5c8-8b3b-7c4e-9a1f-2b3c4d5e6f70', '2026-12-03T06:20:00.000Z', 'why not', ra), (e) => isEdcError(e, 'RECORD_NOT_FOUND'));
  });
});
