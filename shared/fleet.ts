/**
 * "Where is my data": what every hand-over announces about its producer, what receivers hand back down about
 * what the site and central hold, and the per-device figures of the Devices screen (`devices list --json`).
 * Pure (no node:*, no DOM): used by the device API, the share endpoint, batch manifests and the renderer.
 */
import { z } from 'zod';
import { deviceListSchema } from './device-list.ts';
import { deviceIdSchema, roleSchema } from './settings.ts';

const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const keyIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);

/** A clock is "drifting" when it differs from the receiver's by more than this at a live contact. */
export const CLOCK_SKEW_WARN_MS = 10 * 60_000;
/** Clock readings kept per device. */
export const CLOCK_HISTORY_KEPT = 50;
/** Ranges of exceptions kept above the contiguous mark (beyond: the lowest are kept; "at central" is then under-stated, never over-stated). */
export const MAX_EXTRA_RANGES = 64;
/** Producers one contact may ask about / carry. */
export const MAX_CONTACT_PRODUCERS = 500;

/** The sending device's own state, announced at every hand-over (contact before a push, share session, batch manifest). */
export const producerStateSchema = z.object({
  deviceId: deviceIdSchema,
  role: roleSchema,
  /** The latest producerSeq this device has made (0: none yet). */
  latestSeq: seq,
  appVersion: z.string().min(1).max(64),
  schemaVersion: z.number().int().positive().max(10_000),
  /** The key ids of the key set it holds (empty: none installed). */
  keyIds: z.array(keyIdSchema).max(64),
  /** Its clock when it said this (informational: never used for ordering). */
  clock: z.iso.datetime(),
}).strict();
export type ProducerState = z.infer<typeof producerStateSchema>;

/** Another device's state as a carrier (middleman, site) last heard it: when, by the carrier's clock, and its skew then. */
export const carriedStateSchema = producerStateSchema.extend({
  seenAt: z.iso.datetime(),
  /** The device's clock minus the carrier's at that contact, or null when not measured live. */
  skewMs: z.number().int().nullable(),
}).strict();
export type CarriedState = z.infer<typeof carriedStateSchema>;

/** Inclusive ranges of producerSeq, ascending, disjoint. */
export const seqRangesSchema = z.array(z.tuple([seq, seq])).max(MAX_EXTRA_RANGES);
export type SeqRanges = z.infer<typeof seqRangesSchema>;

/** What the site and central hold of one producer: contiguous marks (1..n all held), plus central's exceptions above its mark. */
export const holdingSchema = z.object({
  site: seq,
  central: seq,
  centralExtra: seqRangesSchema,
}).strict();
export type Holding = z.infer<typeof holdingSchema>;
export const holdingsSchema = z.record(deviceIdSchema, holdingSchema)
  .refine((h) => Object.keys(h).length <= MAX_CONTACT_PRODUCERS, `at most ${MAX_CONTACT_PRODUCERS} producers`);
export type Holdings = z.infer<typeof holdingsSchema>;

/** POST /api/v1/contact: a device announces itself (and, a middleman, the laptops it visited) and learns what is held where. */
export const contactRequestSchema = z.object({
  state: producerStateSchema,
  carried: z.array(carriedStateSchema).max(MAX_CONTACT_PRODUCERS).optional(),
  /** Producers (besides the sender) whose holdings it wants to know: a middleman asks for the laptops it carries for. */
  producers: z.array(deviceIdSchema).max(MAX_CONTACT_PRODUCERS).optional(),
}).strict();
export type ContactRequest = z.infer<typeof contactRequestSchema>;
export const contactResponseSchema = z.object({
  receiver: z.string(),
  /** The receiver's clock. */
  clock: z.iso.datetime(),
  holdings: holdingsSchema,
  /** The site's signed device list (absent from older servers). */
  deviceList: deviceListSchema.optional(),
});
export type ContactResponse = z.infer<typeof contactResponseSchema>;

/** POST /share/v1/receipts: a middleman hands a laptop what the site and central hold of its transactions. */
export const shareReceiptsRequestSchema = z.object({ holding: holdingSchema, from: deviceIdSchema }).strict();

// ---------------------------------------------------------------- ranges

/** Merges held seqs into (contiguous, extra): the contiguous mark grows through touching ranges; the rest stays as exceptions. */
export function mergeHeld(contiguous: number, extra: SeqRanges, added: SeqRanges): { contiguous: number; extra: SeqRanges } {
  const all = [...extra, ...added].filter(([a, b]) => b >= a && b > contiguous).map(([a, b]) => [Math.max(a, contiguous + 1), b] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  let c = contiguous;
  const out: [number, number][] = [];
  for (const [a, b] of all) {
    if (a <= c + 1) {
      c = Math.max(c, b);
      continue;
    }
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  // Exceptions now touching the mark fold into it.
  while (out.length && out[0]![0] <= c + 1) c = Math.max(c, out.shift()![1]);
  return { contiguous: c, extra: out.slice(0, MAX_EXTRA_RANGES) };
}

/** Ascending seqs → ranges. */
export function toRanges(seqs: readonly number[]): SeqRanges {
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) out.push([s, s]);
  }
  return out;
}

export function heldIn(h: { contiguous: number; extra: SeqRanges }, s: number): boolean {
  return s <= h.contiguous || h.extra.some(([a, b]) => s >= a && s <= b);
}

export function countHeld(h: { contiguous: number; extra: SeqRanges }, upTo: number): number {
  let n = Math.min(h.contiguous, upTo);
  for (const [a, b] of h.extra) if (a <= upTo) n += Math.min(b, upTo) - a + 1;
  return n;
}

// ---------------------------------------------------------------- the Devices screen

export const deviceFlagSchema = z.enum(['owing', 'old-version', 'missing-key', 'clock-drift', 'revoked']);
export type DeviceFlag = z.infer<typeof deviceFlagSchema>;

export const deviceRowSchema = z.object({
  deviceId: z.string(),
  role: roleSchema.nullable(),
  /** Paired with this server (site/central): token issued. */
  pairedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** By this device's clock: the last time it, or a carrier for it, handed something over. */
  lastSeenAt: z.string().nullable(),
  lastVia: z.string().nullable(),
  /** Latest producerSeq it said it made (null: never announced). */
  made: seq.nullable(),
  /** Contiguous: every producerSeq up to this is held here. */
  received: seq,
  /** Dealt with here (applied, error or conflict) up to this. */
  applied: seq,
  /** Held at central (contiguous), as far as this device knows. */
  atCentral: seq.nullable(),
  /** Made but not received here. */
  owes: seq.nullable(),
  appVersion: z.string().nullable(),
  schemaVersion: z.number().int().nullable(),
  keyIds: z.array(z.string()),
  /** Its clock minus this device's at the last live contact. */
  clockSkewMs: z.number().int().nullable(),
  flags: z.array(deviceFlagSchema),
});
export type DeviceRow = z.infer<typeof deviceRowSchema>;

export const clockReadingSchema = z.object({ at: z.string(), skewMs: z.number().int(), via: z.string() });
export type ClockReading = z.infer<typeof clockReadingSchema>;

/** Compares dotted versions numerically ("1.10.0" > "1.9.2"); non-numeric parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return Math.sign(c);
  }
  return 0;
}

/** What the Devices list is ordered by: attention first (as `attentionOrder`), or one of the screen's columns. */
export const FLEET_SORTS = ['attention', 'deviceId', 'flags', 'owes', 'made', 'received', 'applied', 'atCentral', 'lastSeen', 'version', 'keys', 'clock'] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

const FLAG_ORDER: Record<DeviceFlag, number> = { owing: 0, 'missing-key': 1, 'old-version': 2, 'clock-drift': 3, revoked: 4 };

/** Devices needing attention first (owing, missing key, old version, drifting clock), then by id. */
export function attentionOrder(a: DeviceRow, b: DeviceRow): number {
  const rank = (r: DeviceRow) => Math.min(...r.flags.map((f) => FLAG_ORDER[f]), 99);
  return rank(a) - rank(b) || (b.owes ?? 0) - (a.owes ?? 0) || a.deviceId.localeCompare(b.deviceId);
}

/** One line for people: "ra-07 (field) owes 120 · made 340 · here 220 · at central 200 · last seen … · app 1.2.0 · clock +3 min". */
export function describeDevice(d: DeviceRow): string {
  const parts = [`${d.deviceId}${d.role ? ` (${d.role})` : ''}`];
  if (d.owes) parts.push(`owes ${d.owes}`);
  if (d.made !== null) parts.push(`made ${d.made}`);
  parts.push(`here ${d.received}`);
  if (d.atCentral !== null) parts.push(`at central ${d.atCentral}`);
  parts.push(d.lastSeenAt ? `last seen ${d.lastSeenAt}${d.lastVia ? ` (${d.lastVia})` : ''}` : 'never seen');
  if (d.appVersion) parts.push(`app ${d.appVersion} schema ${d.schemaVersion ?? '?'}`);
  if (d.clockSkewMs !== null) parts.push(`clock ${d.clockSkewMs >= 0 ? '+' : ''}${Math.round(d.clockSkewMs / 1000)} s`);
  if (d.flags.length) parts.push(`[${d.flags.join(', ')}]`);
  return parts.join(' · ');
}
