/**
 * Numbers as people type them: "4,2" and "4.2" are both four point two (a decimal comma or point, never a
 * thousands separator: "1,234" is 1.234). Anything else is refused with a reason, never guessed: "4,2,1",
 * "1.234,5", "70kg", "4 2". The range check runs on the parsed value, by the caller's schema.
 */
export type NumberRefusal = 'not-a-number' | 'two-decimal-marks' | 'too-many-decimals';
export type ParsedNumber = { ok: true; value: number | null } | { ok: false; reason: NumberRefusal };

const NUMBER = /^([+-]?)(\d*)(?:([.,])(\d*))?$/;

/** Empty text is null (the field is optional); `maxDecimals` refuses "36,85" where one decimal is meant. */
export function parseDecimal(text: string, opts: { maxDecimals?: number } = {}): ParsedNumber {
  const s = text.trim().replace(/\u2212/g, '-');
  if (s === '') return { ok: true, value: null };
  const marks = s.match(/[.,]/g)?.length ?? 0;
  if (marks > 1) return { ok: false, reason: 'two-decimal-marks' };
  const m = NUMBER.exec(s);
  if (!m) return { ok: false, reason: 'not-a-number' };
  const [, sign, whole = '', , frac = ''] = m;
  if (whole === '' && frac === '') return { ok: false, reason: 'not-a-number' };
  if (opts.maxDecimals !== undefined && frac.length > opts.maxDecimals) return { ok: false, reason: 'too-many-decimals' };
  const value = Number(`${sign === '-' ? '-' : ''}${whole || '0'}.${frac || '0'}`);
  return Number.isFinite(value) ? { ok: true, value } : { ok: false, reason: 'not-a-number' };
}

/** A value as the input shows it again: the locale's decimal mark ("4,2" for a comma locale). */
export function formatDecimal(value: number | null | undefined, decimalMark: '.' | ','): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return decimalMark === ',' ? s.replace('.', ',') : s;
}
