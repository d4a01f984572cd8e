/**
 * When a consent was given or a visit took place, as corrected by a person: a date (year-month-day, as the draw-time
 * correction takes it) and a 24-hour clock time on the laptop's own clock and zone. Accepted when it is not later
 * than now (beyond a few minutes of clock difference) and not before the day the participant was registered (the
 * start of that local day: the record is often typed after the event). The page and the backend apply the same rule.
 */
import { localToMs, parseClockTime, parseIsoDate, startOfLocalDay } from './local-time.ts';
import { DRAW_FUTURE_TOLERANCE_MINUTES } from './specimens.ts';

export type RecordTimeRefusal = 'date-unreadable' | 'time-unreadable' | 'future' | 'before-registration';

/** The instant of a typed local date and time in `timeZone` ('' = this computer's), or which of the two is unreadable. */
export function typedInstant(dateText: string, timeText: string, timeZone: string): { ok: true; iso: string } | { ok: false; reason: 'date-unreadable' | 'time-unreadable' } {
  const day = parseIsoDate(dateText);
  if (!day) return { ok: false, reason: 'date-unreadable' };
  const clock = parseClockTime(timeText);
  if (!clock) return { ok: false, reason: 'time-unreadable' };
  return { ok: true, iso: new Date(localToMs(day, clock.hour, clock.minute, timeZone)).toISOString() };
}

/** Is `iso` an acceptable time for a consent or a visit of a participant registered at `registrationIso`? */
export function checkRecordTime(iso: string, o: { nowMs: number; registrationIso: string; timeZone: string }): { ok: true } | { ok: false; reason: 'future' | 'before-registration' } {
  const t = Date.parse(iso);
  if (t > o.nowMs + DRAW_FUTURE_TOLERANCE_MINUTES * 60_000) return { ok: false, reason: 'future' };
  if (t < startOfLocalDay(o.registrationIso, o.timeZone)) return { ok: false, reason: 'before-registration' };
  return { ok: true };
}
