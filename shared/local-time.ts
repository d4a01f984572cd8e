/**
 * Local dates and 24-hour clock times in a named time zone (IANA, e.g. Africa/Gaborone), with Intl only, so the
 * backend (a site server may run in UTC while the site keeps Gaborone time) and the page compute the same day.
 * An empty zone is the computer's own.
 */

const pad = (n: number) => String(n).padStart(2, '0');
const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone to use: the named one, or this computer's. */
export function zoneOrLocal(timeZone: string | null | undefined): string {
  return timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** True when `timeZone` is a zone Intl knows (or empty: the computer's). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone === '') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function parts(ms: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const zone = zoneOrLocal(timeZone);
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formats.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(ms))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second! };
}

/** The local date (YYYY-MM-DD) of an instant in `timeZone`. */
export function localDate(at: string | number, timeZone: string): string {
  const p = parts(typeof at === 'number' ? at : Date.parse(at), timeZone);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}`;
}

/** The local 24-hour time (HH:MM) of an instant in `timeZone`. */
export function localTime(at: string | number, timeZone: string): string {
  const p = parts(typeof at === 'number' ? at : Date.parse(at), timeZone);
  return `${pad(p.h)}:${pad(p.mi)}`;
}

/** Local time minus UTC at `ms`, in milliseconds. */
function offsetMs(ms: number, timeZone: string): number {
  const p = parts(ms, timeZone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant (ms) of a local wall-clock date and time in `timeZone` ("2026-12-03", 8, 20 → 06:20 UTC in Gaborone). */
export function localToMs(ymd: string, hour: number, minute: number, timeZone: string): number {
  const [y, mo, d] = ymd.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, mo - 1, d, hour, minute);
  let t = wall - offsetMs(wall, timeZone);
  t = wall - offsetMs(t, timeZone); // once more, for a day on which the offset changes
  return t;
}

/** Start of the local day holding `at`, in ms. */
export function startOfLocalDay(at: string | number, timeZone: string): number {
  return localToMs(localDate(at, timeZone), 0, 0, timeZone);
}

/** The local date `days` after (or before) `ymd`. */
export function addDays(ymd: string, days: number): string {
  const [y, mo, d] = ymd.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d + days));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** A 24-hour clock time as typed: "08:20", "8:20", "08.20", "0820" → { hour, minute }; null if it is not one. */
export function parseClockTime(text: string): { hour: number; minute: number } | null {
  const m = /^([01]?\d|2[0-3])[:.h]?([0-5]\d)$/.exec(text.trim());
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** A date as YYYY-MM-DD that exists; null otherwise. */
export function parseIsoDate(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d ? m[0] : null;
}
