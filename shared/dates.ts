/**
 * A date of birth as it is written on an identity card: day first (12/04/1990, 12.04.1990, 12-04-1990,
 * 12 04 1990, 12 Apr 1990, 12 April 1990), or the ISO form 1990-04-12. The year is written in full; the date must
 * exist, not be in the future and not before 1900. Returns the ISO date (YYYY-MM-DD) the store keeps.
 */
export type DobRefusal = 'empty' | 'unreadable' | 'short-year' | 'no-such-date' | 'future' | 'too-old';
export type ParsedDob = { ok: true; iso: string } | { ok: false; reason: DobRefusal };

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  // Setswana month names (Ferikgong … Sedimonthole), first three letters where they differ from English
  fer: 1, tlh: 2, mop: 3, mor: 4, mot: 5, see: 6, phu: 7, pha: 8, lwe: 9, dip: 10, ngw: 11, sed: 12,
};

const pad = (n: number) => String(n).padStart(2, '0');

export function parseDob(text: string, today: Date = new Date()): ParsedDob {
  const s = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (s === '') return { ok: false, reason: 'empty' };
  let y: number, mo: number, d: number;
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (m) {
    [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d+)$/.exec(s))) {
    if (m[3]!.length !== 4) return { ok: false, reason: m[3]!.length <= 2 ? 'short-year' : 'unreadable' };
    [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2})[ .\-/]?([a-z]+)\.?[ .\-/,]*(\d+)$/.exec(s))) {
    const month = MONTHS[m[2]!.slice(0, 3)];
    if (!month) return { ok: false, reason: 'unreadable' };
    if (m[3]!.length !== 4) return { ok: false, reason: m[3]!.length <= 2 ? 'short-year' : 'unreadable' };
    [d, mo, y] = [Number(m[1]), month, Number(m[3])];
  } else {
    return { ok: false, reason: 'unreadable' };
  }
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || d < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return { ok: false, reason: 'no-such-date' };
  const iso = `${y}-${pad(mo)}-${pad(d)}`;
  const todayIso = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  if (iso > todayIso) return { ok: false, reason: 'future' };
  if (y < 1900) return { ok: false, reason: 'too-old' };
  return { ok: true, iso };
}
