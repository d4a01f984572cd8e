/**
 * Time to lab: from a tube's draw (the requisition's drawn time, as the RA recorded or corrected it) to its receipt
 * at the lab, summarised per local day of the draw, per laptop and per both: how many tubes, the median and the
 * worst, how many past their panel's stability limit. Pure functions (no clock, the zone is passed in), shared by
 * the backend, the page (chart, CSV download) and the CLI (`edc-sync specimens time-to-lab --csv`).
 */
import { z } from 'zod';
import { localDate } from './local-time.ts';

/** One tube the lab received: who drew it, when, and when the site's reconciliation matched it. */
export interface ReceivedTube {
  requisitionIdentifier: string;
  /** The field laptop that drew it (the requisition's producer). */
  producer: string;
  panel: string;
  drawnAt: string;
  receivedAt: string;
}

const isoDate = z.iso.date();
/** The days asked for (local dates of the draw, both included); default the last 14 days up to today. */
export const timeToLabInputSchema = z.object({ from: isoDate.optional(), to: isoDate.optional() }).strict()
  .refine((r) => !r.from || !r.to || (r.from <= r.to && Date.parse(r.to) - Date.parse(r.from) <= 366 * 86_400_000), { message: 'from on or before to, at most a year apart', path: ['from'] });
export type TimeToLabInput = z.infer<typeof timeToLabInputSchema>;

const group = z.object({
  tubes: z.number().int().positive(),
  medianMinutes: z.number().nonnegative(),
  worstMinutes: z.number().int().nonnegative(),
  /** The tube that took longest (the first by identifier among equals). */
  worstTube: z.string(),
  /** Tubes received after their panel's stability limit. */
  overLimit: z.number().int().nonnegative(),
});
export type TimeToLabGroup = z.infer<typeof group>;

export const timeToLabSchema = z.object({
  /** The zone the days are local dates in. */
  timeZone: z.string(),
  from: isoDate,
  to: isoDate,
  /** What "received" means (see core/time-to-lab.ts): the site's lab reconciliation that matched the tube. */
  receipt: z.literal('lab-reconciliation'),
  overall: group.nullable(),
  days: z.array(group.extend({ day: isoDate })),
  laptops: z.array(group.extend({ producer: z.string() })),
  dayLaptops: z.array(group.extend({ day: isoDate, producer: z.string() })),
});
export type TimeToLab = z.infer<typeof timeToLabSchema>;

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Whole minutes from draw to receipt; a receipt "before" the draw (one of the clocks is off) counts as 0. */
export const minutesToLab = (t: Pick<ReceivedTube, 'drawnAt' | 'receivedAt'>): number => Math.max(0, Math.floor((Date.parse(t.receivedAt) - Date.parse(t.drawnAt)) / 60_000));

function summariseGroup(tubes: readonly (ReceivedTube & { minutes: number })[], limits: Readonly<Record<string, number>>): TimeToLabGroup {
  let worst = tubes[0]!;
  for (const t of tubes) if (t.minutes > worst.minutes || (t.minutes === worst.minutes && t.requisitionIdentifier < worst.requisitionIdentifier)) worst = t;
  return {
    tubes: tubes.length,
    medianMinutes: median(tubes.map((t) => t.minutes)),
    worstMinutes: worst.minutes,
    worstTube: worst.requisitionIdentifier,
    overLimit: tubes.filter((t) => limits[t.panel] !== undefined && t.minutes > limits[t.panel]!).length,
  };
}

/** The summary of the tubes drawn on local days `from`..`to` (both included) in `timeZone`; others are left out. */
export function summariseTimeToLab(tubes: readonly ReceivedTube[], o: { timeZone: string; from: string; to: string; limits: Readonly<Record<string, number>> }): TimeToLab {
  const byDay = new Map<string, (ReceivedTube & { minutes: number })[]>();
  const byLaptop = new Map<string, (ReceivedTube & { minutes: number })[]>();
  const byBoth = new Map<string, (ReceivedTube & { minutes: number })[]>();
  const all: (ReceivedTube & { minutes: number })[] = [];
  const push = <K>(m: Map<K, (ReceivedTube & { minutes: number })[]>, k: K, t: ReceivedTube & { minutes: number }) => {
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  };
  // The local date per quarter hour of UTC (every zone's midnight falls on one): Intl once per quarter, not per tube.
  const dayOf = new Map<number, string>();
  // Receipt times repeat (one per reconciliation): parsed once each.
  const receivedMs = new Map<string, number>();
  for (const raw of tubes) {
    const drawnMs = Date.parse(raw.drawnAt);
    const quarter = Math.floor(drawnMs / 900_000);
    let day = dayOf.get(quarter);
    if (day === undefined) {
      day = localDate(quarter * 900_000, o.timeZone);
      dayOf.set(quarter, day);
    }
    if (day < o.from || day > o.to) continue;
    let received = receivedMs.get(raw.receivedAt);
    if (received === undefined) {
      received = Date.parse(raw.receivedAt);
      receivedMs.set(raw.receivedAt, received);
    }
    const t = { requisitionIdentifier: raw.requisitionIdentifier, producer: raw.producer, panel: raw.panel, drawnAt: raw.drawnAt, receivedAt: raw.receivedAt, minutes: Math.max(0, Math.floor((received - drawnMs) / 60_000)) };
    all.push(t);
    push(byDay, day, t);
    push(byLaptop, t.producer, t);
    push(byBoth, `${day}\u0000${t.producer}`, t);
  }
  const sorted = <K extends string>(m: Map<K, unknown>) => [...m.keys()].sort();
  return {
    timeZone: o.timeZone, from: o.from, to: o.to, receipt: 'lab-reconciliation',
    overall: all.length ? summariseGroup(all, o.limits) : null,
    days: sorted(byDay).map((day) => ({ day, ...summariseGroup(byDay.get(day)!, o.limits) })),
    laptops: sorted(byLaptop).map((producer) => ({ producer, ...summariseGroup(byLaptop.get(producer)!, o.limits) })),
    dayLaptops: sorted(byBoth).map((k) => {
      const [day, producer] = k.split('\u0000') as [string, string];
      return { day, producer, ...summariseGroup(byBoth.get(k)!, o.limits) };
    }),
  };
}

export const TIME_TO_LAB_CSV_HEADER = ['day_drawn', 'laptop', 'tubes', 'median_minutes', 'worst_minutes', 'worst_tube', 'over_limit'] as const;

const cell = (v: string | number): string => {
  const s = String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * CSV for a spreadsheet: one row per day and laptop, then each day for all laptops ("all"), each laptop for all
 * days ("all"), and the whole period ("all", "all"). Minutes are whole, the median may end in .5.
 */
export function timeToLabCsv(s: TimeToLab): string {
  const rows: (string | number)[][] = [[...TIME_TO_LAB_CSV_HEADER]];
  const line = (day: string, laptop: string, g: TimeToLabGroup) => rows.push([day, laptop, g.tubes, g.medianMinutes, g.worstMinutes, g.worstTube, g.overLimit]);
  for (const g of s.dayLaptops) line(g.day, g.producer, g);
  for (const g of s.days) line(g.day, 'all', g);
  for (const g of s.laptops) line('all', g.producer, g);
  if (s.overall) line('all', 'all', s.overall);
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** The file name of a download: time-to-lab_<from>_<to>.csv */
export const timeToLabFileName = (s: Pick<TimeToLab, 'from' | 'to'>): string => `time-to-lab_${s.from}_${s.to}.csv`;
