/**
 * When a consent was given or a visit took place, as corrected by a person: a date (year-month-day, as the draw-time
 * correction takes it) and a 24-hour clock time on the laptop's own clock and zone. Accepted when it is not later
 * than now (beyond a few minutes of clock difference) and not before the day the participant was registered (the
 * start of that local day: the record is often typed after the event). A visit's new time is also refused when one
 * of its blood tubes would then be drawn before the visit's day (the draw-time rule, specimens.ts earliestDrawMs):
 * its tubes' draw times are corrected first. The page and the backend apply the same rule.
 */
import { localToMs, parseClockTime, parseIsoDate, startOfLocalDay } from './local-time.ts';
import { DRAW_FUTURE_TOLERANCE_MINUTES, earliestDrawMs } from './specimens.ts';

export type RecordTimeRefusal = 'date-unreadable' | 'time-unreadable' | 'future' | 'before-registration' | 'after-tubes';
/** A refused time: why, and for 'after-tubes' how many tubes were drawn before the new day and the first of those draws. */
export type RecordTimeCheck = { ok: true } | { ok: false; reason: 'future' | 'before-registration' } | { ok: false; reason: 'after-tubes'; tubes: number; firstDrawnIso: string };

/** The instant of a typed local date and time in `timeZone` ('' = this computer's), or which of the two is unreadable. */
export function typedInstant(dateText: string, timeText: string, timeZone: string): { ok: true; iso: string } | { ok: false; reason: 'date-unreadable' | 'time-unreadable' } {
  const day = parseIsoDate(dateText);
  if (!day) return { ok: false, reason: 'date-unreadable' };
  const clock = parseClockTime(timeText);
  if (!clock) return { ok: false, reason: 'time-unreadable' };
  return { ok: true, iso: new Date(localToMs(day, clock.hour, clock.minute, timeZone)).toISOString() };
}

/**
 * Is `iso` an acceptable time for a consent or a visit of a participant registered at `registrationIso`? For a visit,
 * `tubesDrawn` are the draw times of its blood tubes: each must stay on or after the start of the new visit's day.
 */
export function checkRecordTime(iso: string, o: { nowMs: number; registrationIso: string; timeZone: string; tubesDrawn?: readonly string[] }): RecordTimeCheck {
  const t = Date.parse(iso);
  if (t > o.nowMs + DRAW_FUTURE_TOLERANCE_MINUTES * 60_000) return { ok: false, reason: 'future' };
  if (t < startOfLocalDay(o.registrationIso, o.timeZone)) return { ok: false, reason: 'before-registration' };
  const earliest = earliestDrawMs(iso, o.registrationIso, o.timeZone);
  const early = (o.tubesDrawn ?? []).filter((d) => Date.parse(d) < earliest).sort((a, b) => Date.parse(a) - Date.parse(b));
  if (early.length > 0) return { ok: false, reason: 'after-tubes', tubes: early.length, firstDrawnIso: early[0]! };
  return { ok: true };
}
