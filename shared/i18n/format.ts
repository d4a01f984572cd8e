/**
 * Numbers, dates and relative times as a person reads them: the device's locale, a 24-hour clock, "3 min ago"
 * where it helps, a date of birth as on an identity card (12 Apr 1990: day, month name, year, never ambiguous).
 * Pure (Intl only), so the renderer and tests share it. Relative phrases come from the catalogue (`time.*`).
 */
export type RelativePhrase = (key: 'time.justNow' | 'time.minutesAgo' | 'time.hoursAgo' | 'time.daysAgo' | 'time.inFuture', params: { n: number }) => string;

export interface Formatters {
  readonly locale: string;
  /** 1,234.5 or 1 234,5 as the locale writes it. */
  number(n: number, maxDecimals?: number): string;
  /** 12 Apr 2026, 14:05 */
  dateTime(iso: string | null | undefined): string;
  /** 12 Apr 2026 */
  date(iso: string | null | undefined): string;
  /** 14:05 */
  time(iso: string | null | undefined): string;
  /** A date of birth (YYYY-MM-DD) as on an identity card: 12 Apr 1990. */
  dob(ymd: string | null | undefined): string;
  /** "3 min ago" up to a week, then the date and time. */
  relative(iso: string | null | undefined, now?: number): string;
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

const parse = (iso: string): Date | null => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
};

export function formatters(lng: string, deviceLocales: readonly string[], phrase?: RelativePhrase): Formatters {
  const locale = pickLocale(lng, deviceLocales);
  const dt = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const d = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' });
  const tm = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dobFmt = new Intl.DateTimeFormat(locale, { day: '2-digit', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const f: Formatters = {
    locale,
    number: (n, maxDecimals = 2) => new Intl.NumberFormat(locale, { maximumFractionDigits: maxDecimals }).format(n),
    dateTime: (iso) => {
      const x = iso ? parse(iso) : null;
      return x ? dt.format(x) : '—';
    },
    date: (iso) => {
      const x = iso ? parse(iso) : null;
      return x ? d.format(x) : '—';
    },
    time: (iso) => {
      const x = iso ? parse(iso) : null;
      return x ? tm.format(x) : '—';
    },
    dob: (ymd) => {
      const m = ymd ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd) : null;
      if (!m) return ymd ?? '—';
      const parts = dobFmt.formatToParts(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
      const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
      return `${part('day')} ${part('month').replace(/\.$/, '')} ${part('year')}`;
    },
    relative: (iso, now = Date.now()) => {
      const x = iso ? parse(iso) : null;
      if (!x) return '—';
      const s = Math.round((now - x.getTime()) / 1000);
      if (!phrase) return dt.format(x);
      if (s < -60) return phrase('time.inFuture', { n: 0 }) + ' ' + dt.format(x);
      if (s < 45) return phrase('time.justNow', { n: 0 });
      if (s < 3600) return phrase('time.minutesAgo', { n: Math.max(1, Math.round(s / 60)) });
      if (s < 86400) return phrase('time.hoursAgo', { n: Math.floor(s / 3600) });
      if (s < 7 * 86400) return phrase('time.daysAgo', { n: Math.floor(s / 86400) });
      return dt.format(x);
    },
  };
  return f;
}
