import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRecordTime, typedInstant } from './record-times.ts';

const GABORONE = 'Africa/Gaborone'; // UTC+2 all year
const registered = '2026-01-05T06:30:00.000Z'; // 08:30 in Gaborone
const now = Date.parse('2026-01-07T10:00:00.000Z');

describe('record times: when a consent was given or a visit took place, as corrected', () => {
  it('a typed local date and 24-hour time is that instant in the zone; what cannot be read says which', () => {
    assert.deepEqual(typedInstant('2026-01-05', '08:20', GABORONE), { ok: true, iso: '2026-01-05T06:20:00.000Z' });
    assert.deepEqual(typedInstant(' 2026-01-05 ', '8.20', GABORONE), { ok: true, iso: '2026-01-05T06:20:00.000Z' });
    assert.deepEqual(typedInstant('05/01/2026', '08:20', GABORONE), { ok: false, reason: 'date-unreadable' });
    assert.deepEqual(typedInstant('2026-02-30', '08:20', GABORONE), { ok: false, reason: 'date-unreadable' });
    assert.deepEqual(typedInstant('2026-01-05', '25:00', GABORONE), { ok: false, reason: 'time-unreadable' });
    assert.deepEqual(typedInstant('2026-01-05', '8pm', GABORONE), { ok: false, reason: 'time-unreadable' });
  });
  it('accepted from the start of the registration day up to now (and a few minutes of clock difference)', () => {
    const at = (iso: string) => checkRecordTime(iso, { nowMs: now, registrationIso: registered, timeZone: GABORONE });
    assert.deepEqual(at('2026-01-04T22:00:00.000Z'), { ok: true }, '00:00 on the registration day, before the registration itself');
    assert.deepEqual(at('2026-01-04T21:59:00.000Z'), { ok: false, reason: 'before-registration' }, '23:59 the day before');
    assert.deepEqual(at('2026-01-07T10:04:00.000Z'), { ok: true }, 'within the clock tolerance');
    assert.deepEqual(at('2026-01-07T11:00:00.000Z'), { ok: false, reason: 'future' });
  });
  it('a visit moved to a later day than one of its tubes was drawn is refused: how many, and the first draw', () => {
    // Tubes drawn on 5 Jan at 08:20 and on 6 Jan at 00:10 (Gaborone); the visit was on 5 Jan.
    const tubesDrawn = ['2026-01-05T06:20:00.000Z', '2026-01-05T22:10:00.000Z'];
    const at = (iso: string) => checkRecordTime(iso, { nowMs: now, registrationIso: registered, timeZone: GABORONE, tubesDrawn });
    assert.deepEqual(at('2026-01-05T15:00:00.000Z'), { ok: true }, 'later on the same day: the tubes are still on the visit day');
    assert.deepEqual(at('2026-01-04T22:00:00.000Z'), { ok: true }, 'earlier: the tubes come after it');
    assert.deepEqual(at('2026-01-05T22:00:00.000Z'), { ok: false, reason: 'after-tubes', tubes: 1, firstDrawnIso: '2026-01-05T06:20:00.000Z' }, '00:00 on 6 Jan: the 08:20 tube is before it, the 00:10 one is not');
    assert.deepEqual(at('2026-01-07T09:00:00.000Z'), { ok: false, reason: 'after-tubes', tubes: 2, firstDrawnIso: '2026-01-05T06:20:00.000Z' });
    assert.deepEqual(checkRecordTime('2026-01-07T09:00:00.000Z', { nowMs: now, registrationIso: registered, timeZone: GABORONE, tubesDrawn: [] }), { ok: true }, 'a visit without tubes');
    assert.deepEqual(at('2026-01-04T21:59:00.000Z'), { ok: false, reason: 'before-registration' }, 'the registration rule comes first');
  });
});
