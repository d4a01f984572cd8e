/**
 * Specimen hand-overs, shared by the page and the backend: what a scan means, why a tube is missing or unexpected,
 * what a reconciliation is scoped to, and how long ago a tube was drawn against its panel's stability limit.
 * Pure functions of their arguments (the clock is passed in), so the rules are tested without a wall clock.
 */
import { z } from 'zod';
import { hasValidCheck } from './identifiers.ts';
import { startOfLocalDay } from './local-time.ts';

// ---- scans -----------------------------------------------------------------------------------------------

/** What one scan did: each result has its own banner and its own sound. */
export const SCAN_RESULTS = ['matched', 'duplicate', 'unexpected', 'invalid'] as const;
export type ScanResult = (typeof SCAN_RESULTS)[number];

/** What a scanner sends before Enter, trimmed and upper-cased. */
export const normaliseCode = (raw: string): string => raw.trim().toUpperCase();
const CODE_SHAPE = /^[A-Z0-9-]{4,48}$/;

/**
 * Classifies one scanned code against the expected tubes and what was scanned already: a code that is not a
 * requisition barcode or whose check character is wrong is `invalid` (misread: scan again) and is not recorded.
 */
export function classifyScan(raw: string, expected: ReadonlySet<string>, scanned: ReadonlySet<string>): { code: string; result: ScanResult; why?: 'shape' | 'check' } {
  const code = normaliseCode(raw);
  if (!CODE_SHAPE.test(code)) return { code, result: 'invalid', why: 'shape' };
  if (!hasValidCheck(code)) return { code, result: 'invalid', why: 'check' };
  if (scanned.has(code)) return { code, result: 'duplicate' };
  return { code, result: expected.has(code) ? 'matched' : 'unexpected' };
}

// ---- reasons ---------------------------------------------------------------------------------------------

export const MISSING_REASONS = ['not-collected', 'broken', 'left-with-ra', 'other'] as const;
export const UNEXPECTED_REASONS = ['set-aside', 'other-hand-over', 'other'] as const;
export const reasonSchema = z.object({
  reason: z.enum([...MISSING_REASONS, ...UNEXPECTED_REASONS]),
  note: z.string().trim().max(200).default(''),
}).strict().refine((r) => r.reason !== 'other' || r.note.length > 0, { message: 'say what happened to the tube', path: ['note'] });
export type Reason = z.infer<typeof reasonSchema>;
export const reasonsSchema = z.record(z.string().max(48), reasonSchema);

// ---- scopes ----------------------------------------------------------------------------------------------

/**
 * What a reconciliation is against. Driver: `pull` (one pull's tubes; the latest when no batch is given) or
 * `laptop` (a laptop's tubes drawn since a time, e.g. the start of today). Lab: `driver` (what a driver's laptop
 * handed over) or `laptop`.
 */
export const scopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pull'), batchId: z.string().max(64).optional() }).strict(),
  z.object({ kind: z.literal('laptop'), producer: z.string().min(1).max(32), since: z.iso.datetime().optional() }).strict(),
  z.object({ kind: z.literal('driver'), middleman: z.string().min(1).max(32) }).strict(),
]);
export type Scope = z.infer<typeof scopeSchema>;

// ---- time since draw -------------------------------------------------------------------------------------

export type Freshness = 'ok' | 'near' | 'past';
/** Amber from this share of the panel's limit on. */
export const NEAR_LIMIT = 0.75;

/** "1 h 42 min", "12 min", "2 d 3 h" for a non-negative number of minutes. */
export function formatDuration(minutes: number): string {
  const m = Math.max(0, Math.floor(minutes));
  if (m < 60) return `${m} min`;
  if (m < 48 * 60) return `${Math.floor(m / 60)} h ${m % 60} min`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}

/** How long ago a tube was drawn, at `nowMs`, against its stability limit (minutes; null: no limit set). */
export function sinceDraw(drawnIso: string, nowMs: number, limitMinutes: number | null): { minutes: number; text: string; freshness: Freshness } {
  const minutes = Math.max(0, Math.floor((nowMs - Date.parse(drawnIso)) / 60_000));
  const freshness: Freshness = limitMinutes === null ? 'ok' : minutes > limitMinutes ? 'past' : minutes >= limitMinutes * NEAR_LIMIT ? 'near' : 'ok';
  return { minutes, text: `drawn ${formatDuration(minutes)} ago`, freshness };
}

/** Oldest draw first; ties by identifier, so the order is stable. */
export function oldestFirst<T extends { drawnDatetime: string; requisitionIdentifier: string }>(tubes: readonly T[]): T[] {
  return [...tubes].sort((a, b) => a.drawnDatetime.localeCompare(b.drawnDatetime) || a.requisitionIdentifier.localeCompare(b.requisitionIdentifier));
}

// ---- draw time corrections -------------------------------------------------------------------------------

/** A corrected draw time may be this far ahead of the device clock (clocks and typing are a few minutes off). */
export const DRAW_FUTURE_TOLERANCE_MINUTES = 5;

export type DrawTimeRefusal = 'future' | 'before-visit-day' | 'unchanged';

/** Why a draw time needs correcting: written into the change's audit history and synced with it. */
export const correctionReasonSchema = z.string().trim().min(3, 'say why it is corrected').max(200);

/** What the Research Assistant sends to correct a tube's draw time. */
export const drawTimeCorrectionSchema = z.object({
  id: z.uuid(),
  drawnDatetime: z.iso.datetime(),
  reason: correctionReasonSchema,
}).strict();

/**
 * A corrected draw time is accepted when it is not in the future by the device clock (beyond a few minutes),
 * not before the day of the visit or of the participant's registration (tubes are often drawn before the record
 * is typed, so the bound is the start of that local day, not the minute), and differs from the current one.
 * `earliestMs`: the start of the later of those two local days (see `earliestDrawMs`).
 */
export function checkDrawTime(drawnIso: string, o: { nowMs: number; earliestMs: number; currentIso: string }): { ok: true } | { ok: false; reason: DrawTimeRefusal } {
  const t = Date.parse(drawnIso);
  if (t > o.nowMs + DRAW_FUTURE_TOLERANCE_MINUTES * 60_000) return { ok: false, reason: 'future' };
  if (t < o.earliestMs) return { ok: false, reason: 'before-visit-day' };
  if (t === Date.parse(o.currentIso)) return { ok: false, reason: 'unchanged' };
  return { ok: true };
}

/** The earliest acceptable draw time: the start of the later local day of the visit and of the registration. */
export function earliestDrawMs(visitIso: string, registrationIso: string, timeZone: string): number {
  return Math.max(startOfLocalDay(visitIso, timeZone), startOfLocalDay(registrationIso, timeZone));
}
