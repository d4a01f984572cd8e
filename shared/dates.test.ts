import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDob } from './dates.ts';

const today = new Date(2026, 11, 2);

describe('parseDob: a date of birth as on an identity card', () => {
  it('reads day first in the usual spellings, and ISO', () => {
    for (const s of ['12/04/1990', '12.04.1990', '12-04-1990', '12 04 1990', '12/4/1990', '12 Apr 1990', '12 april 1990', '12-Apr-1990', '12 Moranang 1990', '1990-04-12']) {
      assert.deepEqual(parseDob(s, today), { ok: true, iso: '1990-04-12' }, s);
    }
  });
  it('refuses, with the reason, what is not a real date of birth', () => {
    assert.deepEqual(parseDob('', today), { ok: false, reason: 'empty' });
    assert.deepEqual(parseDob('12/04/90', today), { ok: false, reason: 'short-year' });
    assert.deepEqual(parseDob('31/02/1990', today), { ok: false, reason: 'no-such-date' });
    assert.deepEqual(parseDob('12/13/1990', today), { ok: false, reason: 'no-such-date' });
    assert.deepEqual(parseDob('03/12/2026', today), { ok: false, reason: 'future' });
    assert.deepEqual(parseDob('01/01/1890', today), { ok: false, reason: 'too-old' });
    assert.deepEqual(parseDob('yesterday', today), { ok: false, reason: 'unreadable' });
    assert.deepEqual(parseDob('12 Foo 1990', today), { ok: false, reason: 'unreadable' });
  });
  it('today is allowed, a leap day too', () => {
    assert.deepEqual(parseDob('02/12/2026', today), { ok: true, iso: '2026-12-02' });
    assert.deepEqual(parseDob('29/02/2000', today), { ok: true, iso: '2000-02-29' });
  });
});
