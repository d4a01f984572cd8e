import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatters } from './format.ts';
import { tn } from './tn.ts';

// Formatting uses this computer's zone: fix it (Gaborone, UTC+2 all year) so the clock times below are known.
process.env.TZ = 'Africa/Gaborone';

const phrase = (key: string, p: { n: number }) => `${key}:${p.n}`;
const DMY = /^\d{2} \S+ \d{4}$/;

describe('formatters: one style for every date on screen', () => {
  it('a registration date and a date of birth read the same way, whatever English the device prefers', () => {
    for (const device of [['en-US'], ['en-GB'], ['en-BW'], []]) {
      const f = formatters('en', device, phrase);
      assert.equal(f.date('2026-01-06T10:00:00.000Z'), '06 Jan 2026', device.join());
      assert.equal(f.dob('1982-10-24'), '24 Oct 1982', device.join());
      assert.equal(f.date('2026-01-06'), '06 Jan 2026', 'a calendar day is that day in any zone');
      assert.equal(f.dayMonth('2026-01-06'), '06 Jan', device.join());
    }
  });
  it('date and time: the day first, the month by name, a 24-hour clock in this computer’s zone', () => {
    const f = formatters('en', ['en-US'], phrase);
    assert.equal(f.dateTime('2026-01-06T15:30:00.000Z'), '06 Jan 2026, 17:30');
    assert.equal(f.time('2026-01-06T22:05:00.000Z'), '00:05');
    assert.equal(f.dateTime('2026-01-06T22:05:00.000Z'), '07 Jan 2026, 00:05', 'the local day, not the UTC one');
    assert.equal(f.dateTime(null), '—');
    assert.equal(f.dateTime('not a date'), '—');
  });
  it('Setswana: the locale’s words, the same order and clock', () => {
    const f = formatters('tn', ['en-US'], phrase);
    assert.match(f.date('2026-01-06T10:00:00.000Z'), DMY);
    assert.match(f.dob('1982-10-24'), /^24 \S+ 1982$/);
    assert.match(f.dateTime('2026-01-06T15:30:00.000Z'), /^06 \S+ 2026, 17:30$/);
  });
  it('Setswana months from the catalogue, so a browser without Setswana locale data writes no English month', () => {
    const words = (key: string) => (key === 'time.monthsShort' ? tn.time.monthsShort : undefined);
    const f = formatters('tn', ['en-US'], phrase, words);
    assert.equal(f.date('2026-01-06T10:00:00.000Z'), '06 Fer 2026');
    assert.equal(f.dob('1982-10-24'), '24 Dip 1982');
    assert.equal(f.dateTime('2026-12-31T22:30:00.000Z'), '01 Fer 2027, 00:30', 'the month of the local day');
    assert.equal(f.date('2026-12-31'), '31 Sed 2026', 'a calendar day is that day in any zone');
    assert.equal(f.dayMonth('2026-04-12'), '12 Mor');
    // English keeps the device locale's own; a catalogue line that is not twelve months is not used.
    assert.equal(formatters('en', ['en-GB'], phrase, (k) => (k === 'time.monthsShort' ? tn.time.monthsShort : undefined)).date('2026-01-06'), '06 Jan 2026');
    assert.match(formatters('tn', [], phrase, () => 'Fer Tlh').date('2026-01-06'), DMY);
  });
  it('relative where it helps: minutes, hours, days up to a week, then the date and time', () => {
    const f = formatters('en', ['en-GB'], phrase);
    const now = Date.parse('2026-01-10T12:00:00.000Z');
    assert.equal(f.relative('2026-01-10T11:59:40.000Z', now), 'time.justNow:0');
    assert.equal(f.relative('2026-01-10T11:55:00.000Z', now), 'time.minutesAgo:5');
    assert.equal(f.relative('2026-01-10T09:00:00.000Z', now), 'time.hoursAgo:3');
    assert.equal(f.relative('2026-01-08T12:00:00.000Z', now), 'time.daysAgo:2');
    assert.equal(f.relative('2026-01-01T12:00:00.000Z', now), '01 Jan 2026, 14:00');
    assert.equal(f.relative('2026-01-10T14:00:00.000Z', now), 'time.inFuture:0 10 Jan 2026, 16:00');
    assert.equal(f.relative(null, now), '—');
  });
  it('a stored value by its field: dates and times in the same style, anything else as it is', () => {
    const f = formatters('en', ['en-US'], phrase);
    assert.equal(f.value('consentDatetime', '2026-01-06T07:00:00.000Z'), '06 Jan 2026, 09:00');
    assert.equal(f.value('drawn_datetime', '2026-01-06T07:00:00.000Z'), '06 Jan 2026, 09:00');
    assert.equal(f.value('created', '2026-01-06T07:00:00.000Z'), '06 Jan 2026, 09:00', 'an instant whatever the field');
    assert.equal(f.value('comment', '2026-01-06T07:00 at the clinic'), '2026-01-06T07:00 at the clinic');
    assert.equal(f.value('dob', '1990-04-12'), '12 Apr 1990');
    assert.equal(f.value('nextAppointmentDate', '2026-02-01'), '01 Feb 2026');
    assert.equal(f.value('panel', 'CD4'), 'CD4');
    assert.equal(f.value('comment', '2026-01-06'), '2026-01-06', 'a date typed in a text field stays as typed');
    assert.equal(f.value('itemCount', 2), '2');
    assert.equal(f.value('phone', null), '');
  });
});
