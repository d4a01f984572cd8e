import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vitalSignsInput } from './domain.ts';
import { formatDecimal, parseDecimal } from './numbers.ts';

describe('parseDecimal: a decimal comma or point, or a plain refusal', () => {
  it('reads a comma and a point alike', () => {
    assert.deepEqual(parseDecimal('4,2'), { ok: true, value: 4.2 });
    assert.deepEqual(parseDecimal('4.2'), { ok: true, value: 4.2 });
    assert.deepEqual(parseDecimal('36,8'), { ok: true, value: 36.8 });
    assert.deepEqual(parseDecimal(' 70 '), { ok: true, value: 70 });
    assert.deepEqual(parseDecimal(',5'), { ok: true, value: 0.5 });
    assert.deepEqual(parseDecimal('5,'), { ok: true, value: 5 });
    assert.deepEqual(parseDecimal('-1,5'), { ok: true, value: -1.5 });
    assert.deepEqual(parseDecimal('\u22121,5'), { ok: true, value: -1.5 });
  });
  it('a single comma is never a thousands separator', () => {
    assert.deepEqual(parseDecimal('1,234'), { ok: true, value: 1.234 });
  });
  it('empty is null (an optional field left empty)', () => {
    assert.deepEqual(parseDecimal(''), { ok: true, value: null });
    assert.deepEqual(parseDecimal('   '), { ok: true, value: null });
  });
  it('refuses what it would have to guess', () => {
    assert.deepEqual(parseDecimal('4,2,1'), { ok: false, reason: 'two-decimal-marks' });
    assert.deepEqual(parseDecimal('1.234,5'), { ok: false, reason: 'two-decimal-marks' });
    for (const s of ['70kg', '4 2', 'abc', ',', '-', '+', '1e3', '0x10', '٤٢', 'Infinity', 'NaN']) assert.deepEqual(parseDecimal(s), { ok: false, reason: 'not-a-number' }, s);
  });
  it('refuses more decimals than the field has', () => {
    assert.deepEqual(parseDecimal('36,85', { maxDecimals: 1 }), { ok: false, reason: 'too-many-decimals' });
    assert.deepEqual(parseDecimal('120,5', { maxDecimals: 0 }), { ok: false, reason: 'too-many-decimals' });
    assert.deepEqual(parseDecimal('120,', { maxDecimals: 0 }), { ok: true, value: 120 });
  });
  it('the range check runs on the parsed value: "4,2" kg passes as 4.2, "36,8" °C as 36.8, "368" fails', () => {
    const base = { visitId: '0190a0a0-0000-7000-8000-000000000000', heightCm: null, systolic: null, diastolic: null };
    const weight = parseDecimal('4,2');
    const temp = parseDecimal('36,8');
    assert.ok(weight.ok && temp.ok);
    assert.ok(vitalSignsInput.safeParse({ ...base, weightKg: weight.value, temperatureC: temp.value }).success);
    const wrong = parseDecimal('368');
    assert.ok(wrong.ok);
    assert.equal(vitalSignsInput.safeParse({ ...base, weightKg: null, temperatureC: wrong.value }).success, false);
  });
  it('shows a stored value with the locale\'s mark', () => {
    assert.equal(formatDecimal(4.2, ','), '4,2');
    assert.equal(formatDecimal(4.2, '.'), '4.2');
    assert.equal(formatDecimal(null, ','), '');
  });
});
