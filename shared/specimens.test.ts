import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requisitionIdentifier } from './identifiers.ts';
import { MAX_GAP_MS, ScanBurst } from './scan-burst.ts';
import { classifyScan, formatDuration, oldestFirst, reasonSchema, sinceDraw } from './specimens.ts';

describe('scans', () => {
  const a = requisitionIdentifier('ra-01', 1);
  const b = requisitionIdentifier('ra-01', 2);
  const other = requisitionIdentifier('ra-09', 7);
  const bad = `${a.slice(0, -1)}${a.endsWith('0') ? '1' : '0'}`;
  it('matched, already scanned, not on the list, and misread are told apart', () => {
    const want = new Set([a, b]);
    assert.deepEqual(classifyScan(` ${a.toLowerCase()} `, want, new Set()), { code: a, result: 'matched' });
    assert.deepEqual(classifyScan(a, want, new Set([a])), { code: a, result: 'duplicate' });
    assert.deepEqual(classifyScan(other, want, new Set()), { code: other, result: 'unexpected' });
    assert.deepEqual(classifyScan(bad, want, new Set()), { code: bad, result: 'invalid', why: 'check' });
    assert.deepEqual(classifyScan('ab', want, new Set()), { code: 'AB', result: 'invalid', why: 'shape' });
    assert.deepEqual(classifyScan('RRA01 000001', want, new Set()).result, 'invalid');
  });

  it('a fast burst ending in Enter is a scan; a person typing is not', () => {
    const burst = new ScanBurst();
    const field = {};
    [...'RRA0100'].forEach((ch, i) => burst.key(ch, 1000 + i * 8, field, 'abc'));
    assert.equal(burst.enter(1000 + 7 * 8, field), 'RRA0100');
    assert.equal(burst.valueBefore, 'abc');
    [...'CD4 tubes'].forEach((ch, i) => burst.key(ch, 5000 + i * 180, field, ''));
    assert.equal(burst.enter(5000 + 9 * 180, field), null);
    // A slow start then a fast tail: only the fast tail counts, and it must be long enough.
    burst.key('x', 9000, field, '');
    [...'AB'].forEach((ch, i) => burst.key(ch, 9000 + MAX_GAP_MS + 1 + i * 5, field, 'x'));
    assert.equal(burst.enter(9000 + MAX_GAP_MS + 20, field), null);
    // Keys into another field break the burst.
    [...'RRA0'].forEach((ch) => burst.key(ch, 12000, field, ''));
    burst.key('1', 12001, {}, '');
    assert.equal(burst.enter(12002, field), null);
  });
});

describe('time since draw (fixed clock)', () => {
  const drawn = '2026-03-04T08:20:00.000Z';
  const at = (min: number) => Date.parse(drawn) + min * 60_000;
  it('says how long ago, in hours and minutes', () => {
    assert.equal(sinceDraw(drawn, at(102), null).text, 'drawn 1 h 42 min ago');
    assert.equal(sinceDraw(drawn, at(12.9), null).text, 'drawn 12 min ago');
    assert.equal(sinceDraw(drawn, at(-5), null).text, 'drawn 0 min ago', 'a clock behind the draw time never shows negative');
    assert.equal(formatDuration(3 * 1440 + 125), '3 d 2 h');
  });
  it('amber from 75 % of the panel limit, red past it, none without a limit', () => {
    assert.equal(sinceDraw(drawn, at(89), 120).freshness, 'ok');
    assert.equal(sinceDraw(drawn, at(90), 120).freshness, 'near');
    assert.equal(sinceDraw(drawn, at(120), 120).freshness, 'near');
    assert.equal(sinceDraw(drawn, at(121), 120).freshness, 'past');
    assert.equal(sinceDraw(drawn, at(100_000), null).freshness, 'ok');
  });
  it('oldest first, ties by identifier', () => {
    const t = (id: string, d: string) => ({ requisitionIdentifier: id, drawnDatetime: d });
    assert.deepEqual(oldestFirst([t('B', '2026-01-02T00:00:00Z'), t('C', '2026-01-01T00:00:00Z'), t('A', '2026-01-02T00:00:00Z')]).map((x) => x.requisitionIdentifier), ['C', 'A', 'B']);
  });
});

describe('reasons', () => {
  it('"other" needs a note', () => {
    assert.equal(reasonSchema.safeParse({ reason: 'other' }).success, false);
    assert.equal(reasonSchema.safeParse({ reason: 'other', note: 'dropped in the river' }).success, true);
    assert.equal(reasonSchema.safeParse({ reason: 'broken' }).success, true);
    assert.equal(reasonSchema.safeParse({ reason: 'lost-it' }).success, false);
  });
});
