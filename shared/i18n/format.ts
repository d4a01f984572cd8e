/**
 * Numbers, dates and relative times as a person reads them: the device's locale, a 24-hour clock, "3 min ago"
 * where it helps, a date of birth as on an identity card (12 Apr 1990: day, month name, year, never ambiguous).
 * Pure (Intl, and the codes of the schemas), so the renderer and tests share it. Relative phrases and the words of
 * coded values come from the catalogue (`time.*`, `values.*`).
 */
import { valueKey } from './values.ts';

export type RelativePhrase = (key: 'time.justNow' | 'time.minutesAgo' | 'time.hoursAgo' | 'time.daysAgo' | 'time.inFuture', params: { n: number }) => string;
/** A catalogue entry by its key (e.g. 'values.gender.F'), or undefined when the catalogue has none. */
export type Words = (key: string) => string | undefined;

export interface Formatters {
  readonly locale: string;
  /** 1,234.5 or 1 234,5 as the locale writes it. */
  number(n: number, maxDecimals?: number): string;
  /** 06 Apr 2026, 14:05 (the day first, the month by name, a 24-hour clock: never ambiguous, never "Apr 6"). */
  dateTime(iso: string | null | undefined): string;
  /** 06 Apr 2026; a plain YYYY-MM-DD is that calendar day, whatever the zone. */
  date(iso: string | null | undefined): string;
  /** 06 Apr: a day of this year, e.g. on a chart's axis (a plain YYYY-MM-DD is that calendar day). */
  dayMonth(iso: string | null | undefined): string;
  /** 14:05 */
  time(iso: string | null | undefined): string;
  /** A date of birth (YYYY-MM-DD) as on an identity card: 12 Apr 1990 (the same style as every other date). */
  dob(ymd: string | null | undefined): string;
  /** "3 min ago" up to a week, then the date and time. */
  relative(iso: string | null | undefined, now?: number): string;
  /**
   * A stored value of `field` as a person reads it: instants (any field) and calendar days (date fields) in the style
   * above, a coded answer (values.ts: gender "F", reason "scheduled") as its words in the catalogue, true / false as
   * Yes / No, other values as they are.
   */
  value(field: string, v: unknown): string;
}

/** The locale to format with: the device's own (its first preferred language) for English, Setswana (Botswana) for tn. */
export function pickLocale(lng: string, deviceLocales: readonly string[]): string {
  const candidates = lng === 'en' ? [...deviceLocales.filter((l) => l.toLowerCase().startsWith('en')), 'en-GB'] : [`${lng}-BW`, lng, 'en-BW'];
  for (const c of candidates) {
    try {
      if (Intl.DateTimeFormat.supportedLocalesOf([c]).length > 0) return c;
    } catch {
      // not a valid tag: try the next one
    }
  }
  return 'en-GB';
}

const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A full ISO instant as the store keeps one (no person types this into a text field). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

const parse = (iso: string): Date | null => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
};

/** Field names that hold a date or an instant (registrationDatetime, drawn_datetime, consumedAt, dob, nextAppointmentDate …). */
const DATE_FIELD = /(datetime|date|_at|At|^at|^dob)$/i;

/**
 * The one formatter of every date and time on screen. Each date is assembled from the locale's parts in one fixed
 * order (day, month name, year), so the device's locale gives the words and digits, never a different order; the
 * clock is always 24-hour; a date of birth is written the same way, as on an identity card.
 */
export function formatters(lng: string, deviceLocales: readonly string[], phrase?: RelativePhrase, words?: Words): Formatters {
  const locale = pickLocale(lng, deviceLocales);
  const dayParts = new Intl.DateTimeFormat(locale, { day: '2-digit', month: 'short', year: 'numeric' });
  const utcDayParts = new Intl.DateTimeFormat(locale, { day: '2-digit', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const tm = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  // A language other than English names its months from the catalogue (time.monthsShort): a browser without that
  // language's locale data (Chromium ships none for Setswana) would otherwise write "Dec" on a Setswana screen.
  const months = lng === 'en' ? undefined : words?.('time.monthsShort')?.trim().split(/\s+/);
  const ownMonths = months?.length === 12 ? months : undefined;
  const dmy = (fmt: Intl.DateTimeFormat, d: Date, withYear = true): string => {
    const parts = fmt.formatToParts(d);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    const month = ownMonths ? ownMonths[fmt.resolvedOptions().timeZone === 'UTC' ? d.getUTCMonth() : d.getMonth()]! : part('month').replace(/\.$/, '');
    return `${part('day')} ${month}${withYear ? ` ${part('year')}` : ''}`;
  };
  const ymdDate = (ymd: string): Date | null => {
    const m = YMD.exec(ymd);
    return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  };
  const dateTime = (x: Date) => `${dmy(dayParts, x)}, ${tm.format(x)}`;
  const f: Formatters = {
    locale,
    number: (n, maxDecimals = 2) => new Intl.NumberFormat(locale, { maximumFractionDigits: maxDecimals }).format(n),
    dateTime: (iso) => {
      if (iso && YMD.test(iso)) return f.date(iso);
      const x = iso ? parse(iso) : null;
      return x ? dateTime(x) : '—';
    },
    date: (iso) => {
      const day = iso ? ymdDate(iso) : null;
      if (day) return dmy(utcDayParts, day);
      const x = iso ? parse(iso) : null;
      return x ? dmy(dayParts, x) : '—';
    },
    dayMonth: (iso) => {
      const day = iso ? ymdDate(iso) : null;
      const x = day ?? (iso ? parse(iso) : null);
      return x ? dmy(day ? utcDayParts : dayParts, x, false) : '—';
    },
    time: (iso) => {
      const x = iso ? parse(iso) : null;
      return x ? tm.format(x) : '—';
    },
    dob: (ymd) => {
      const day = ymd ? ymdDate(ymd) : null;
      return day ? dmy(utcDayParts, day) : ymd ?? '—';
    },
    relative: (iso, now = Date.now()) => {
      const x = iso ? parse(iso) : null;
      if (!x) return '—';
      const s = Math.round((now - x.getTime()) / 1000);
      if (!phrase) return dateTime(x);
      if (s < -60) return phrase('time.inFuture', { n: 0 }) + ' ' + dateTime(x);
      if (s < 45) return phrase('time.justNow', { n: 0 });
      if (s < 3600) return phrase('time.minutesAgo', { n: Math.max(1, Math.round(s / 60)) });
      if (s < 86400) return phrase('time.hoursAgo', { n: Math.floor(s / 3600) });
      if (s < 7 * 86400) return phrase('time.daysAgo', { n: Math.floor(s / 86400) });
      return dateTime(x);
    },
    value: (field, v) => {
      const key = valueKey(field, v);
      const said = key && words ? words(key) : undefined;
      if (said) return said;
      if (typeof v === 'string' && ISO_INSTANT.test(v) && parse(v)) return f.dateTime(v);
      if (typeof v === 'string' && DATE_FIELD.test(field) && YMD.test(v)) return f.date(v);
      return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean);
    },
  };
  return f;
}
