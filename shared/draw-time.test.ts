/** The draw-time correction rule and the local-time helpers, from a fixed clock and named zones (never the wall clock). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDays, localDate, localTime, localToMs, parseClockTime, parseIsoDate, startOfLocalDay } from './local-time.ts';
import { checkDrawTime, drawTimeCorrectionSchema, earliestDrawMs } from './specimens.ts';

const GABS = 'Africa/Gaborone'; // UTC+2, no daylight saving
const NOW = Date.parse('2026-12-03T09:00:00.000Z'); // 11:00 in Gaborone
const VISIT = '2026-12-03T06:10:00.000Z'; // 08:10 in Gaborone
const REGISTERED = '2026-11-20T07:00:00.000Z';
const CURRENT = '2026-12-03T06:20:00.000Z';

describe('draw time correction rule', () => {
  const earliestMs = earliestDrawMs(VISIT, REGISTERED, GABS);
  const check = (iso: string) => checkDrawTime(iso, { nowMs: NOW, earliestMs, currentIso: CURRENT });

  it('the earliest draw is the start of the later local day of visit and registration', () => {
    assert.equal(new Date(earliestMs).toISOString(), '2026-12-02T22:00:00.000Z'); // 00:00 on 3 Dec in Gaborone
    assert.equal(new Date(earliestDrawMs('2026-12-01T06:00:00.000Z', '2026-12-02T22:30:00.000Z', GABS)).toISOString(), '2026-12-02T22:00:00.000Z',
      'registered at 22:30 UTC on 2 Dec is 00:30 on 3 Dec in Gaborone: that day wins');
  });

  it('accepts an earlier time on the visit day, and one up to 5 minutes ahead of the device clock', () => {
    assert.deepEqual(check('2026-12-03T05:45:00.000Z'), { ok: true });
    assert.deepEqual(check('2026-12-02T22:00:00.000Z'), { ok: true }, 'midnight of the visit day');
    assert.deepEqual(check('2026-12-03T09:05:00.000Z'), { ok: true }, 'exactly 5 minutes ahead');
  });

  it('refuses the future beyond 5 minutes, before the visit day, and the time already recorded', () => {
    assert.deepEqual(check('2026-12-03T09:05:01.000Z'), { ok: false, reason: 'future' });
    assert.deepEqual(check('2026-12-03T13:00:00.000Z'), { ok: false, reason: 'future' });
    assert.deepEqual(check('2026-12-02T21:59:00.000Z'), { ok: false, reason: 'before-visit-day' }, '23:59 the day before, in Gaborone');
    assert.deepEqual(check(CURRENT), { ok: false, reason: 'unchanged' });
  });

  it('the boundary input: a uuid, an ISO date-time and a reason of 3 to 200 characters', () => {
    const id = '0190a5c8-8b3b-7c4e-9a1f-2b3c4d5e6f70';
    assert.ok(drawTimeCorrectionSchema.safeParse({ id, drawnDatetime: CURRENT, reason: 'typed late' }).success);
    assert.equal(drawTimeCorrectionSchema.safeParse({ id, drawnDatetime: CURRENT, reason: '  x ' }).error?.issues[0]?.path.join('.'), 'reason');
    assert.equal(drawTimeCorrectionSchema.safeParse({ id, drawnDatetime: '08:20', reason: 'typed late' }).error?.issues[0]?.path.join('.'), 'drawnDatetime');
    assert.equal(drawTimeCorrectionSchema.safeParse({ id, drawnDatetime: CURRENT, reason: 'x'.repeat(201) }).success, false);
    assert.equal(drawTimeCorrectionSchema.safeParse({ id, drawnDatetime: CURRENT, reason: 'typed late', extra: 1 }).success, false);
  });
});

describe('local time', () => {
  it('24-hour clock times as typed', () => {
    assert.deepEqual(parseClockTime('08:20'), { hour: 8, minute: 20 });
    assert.deepEqual(parseClockTime(' 8:05 '), { hour: 8, minute: 5 });
    assert.deepEqual(parseClockTime('14.30'), { hour: 14, minute: 30 });
    assert.deepEqual(parseClockTime('0000'), { hour: 0, minute: 0 });
    assert.deepEqual(parseClockTime('23:59'), { hour: 23, minute: 59 });
    for (const bad of ['24:00', '8:60', '8 am', '2:3', '', '08:20:00']) assert.equal(parseClockTime(bad), null, bad);
  });

  it('dates that exist', () => {
    assert.equal(parseIsoDate('2026-12-03'), '2026-12-03');
    assert.equal(parseIsoDate('2026-02-30'), null);
    assert.equal(parseIsoDate('03/12/2026'), null);
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  });

  it('local dates, times and midnights in a named zone', () => {
    assert.equal(localDate('2026-12-02T22:30:00.000Z', GABS), '2026-12-03');
    assert.equal(localDate('2026-12-02T22:30:00.000Z', 'UTC'), '2026-12-02');
    assert.equal(localTime('2026-12-02T22:30:00.000Z', GABS), '00:30');
    assert.equal(new Date(localToMs('2026-12-03', 8, 20, GABS)).toISOString(), '2026-12-03T06:20:00.000Z');
    assert.equal(new Date(startOfLocalDay('2026-12-03T21:59:00.000Z', GABS)).toISOString(), '2026-12-02T22:00:00.000Z');
    // A zone with daylight saving: midnight before and after the change.
    assert.equal(new Date(startOfLocalDay('2026-03-29T12:00:00.000Z', 'Europe/Berlin')).toISOString(), '2026-03-28T23:00:00.000Z');
    assert.equal(new Date(startOfLocalDay('2026-03-30T12:00:00.000Z', 'Europe/Berlin')).toISOString(), '2026-03-29T22:00:00.000Z');
  });
});
