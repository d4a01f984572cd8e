import { z } from 'zod';
import { roleSchema } from './settings.ts';

/** An exporter's batches that have not arrived while later ones have (import waits for them). */
export const batchGapSchema = z.object({ exporter: z.string(), from: z.number().int(), to: z.number().int(), since: z.string() });
export type BatchGap = z.infer<typeof batchGapSchema>;
export const unmatchedFileSchema = z.object({ fileName: z.string(), kind: z.enum(['data-without-manifest', 'manifest-without-data']), since: z.string() });
export type UnmatchedFile = z.infer<typeof unmatchedFileSchema>;

export const gapSchema = z.object({ producer: z.string(), from: z.number().int(), to: z.number().int() });
export type Gap = z.infer<typeof gapSchema>;

/**
 * Why one producer's transactions wait here, one entry per reason (issue 9, deliverable 6). `count`: transactions
 * waiting for it (for a gap: the numbers missing, behind which later ones wait).
 * - gap: producerSeq from–to has not arrived;
 * - deferred: records waiting for a parent that is still on its way (since: the oldest wait's start, this device's clock);
 * - blocked: records whose parent (or own insert) failed here; `by` the first failed one, with its reason;
 * - schema: made by a newer schema than this device runs (`schemaVersion` theirs, `here` ours): update this device;
 * - key: encrypted under key ids this device's key set lacks (`keyIds`): import the newer key set.
 */
export const producerWaitSchema = z.discriminatedUnion('kind', [
  z.object({ producer: z.string(), kind: z.literal('gap'), count: z.number().int(), from: z.number().int(), to: z.number().int() }),
  z.object({ producer: z.string(), kind: z.literal('deferred'), count: z.number().int(), since: z.string().nullable(), reason: z.string() }),
  z.object({ producer: z.string(), kind: z.literal('blocked'), count: z.number().int(), by: z.string(), reason: z.string() }),
  z.object({ producer: z.string(), kind: z.literal('schema'), count: z.number().int(), schemaVersion: z.number().int(), here: z.number().int() }),
  z.object({ producer: z.string(), kind: z.literal('key'), count: z.number().int(), keyIds: z.array(z.string()) }),
]);
export type ProducerWait = z.infer<typeof producerWaitSchema>;

/** `edc-sync status --json`: the stable shape documented in DESIGN section 8 (extra keys may be added, never removed). */
export const statusSchema = z.object({
  role: roleSchema,
  deviceId: z.string(),
  outgoing: z.object({
    total: z.number().int(), pendingServer: z.number().int(), pendingMiddleman: z.number().int(),
    /**
     * This device's own transactions by where they are now, as far as it has heard (receipts travel back down):
     * still only here · with a middleman · at the site · at central. They add up to total.
     */
    hops: z.object({ here: z.number().int(), middleman: z.number().int(), site: z.number().int(), central: z.number().int() }),
  }),
  incoming: z.object({
    total: z.number().int(),
    consumed: z.number().int(),
    deferred: z.number().int(),
    error: z.number().int(),
    conflicts: z.number().int(),
    pending: z.number().int(),
    quarantinedFiles: z.number().int(),
    /** Received here but not yet acknowledged by the next hop (middleman → site by REST, site → central by file). */
    awaitingForward: z.number().int(),
    gaps: z.array(gapSchema),
    /** Transactions not applied because one they depend on failed here, grouped by that failed one. Not in `pending`. */
    blocked: z.array(z.object({ by: z.string(), producer: z.string(), count: z.number().int(), reason: z.string() })),
    /** Site/central, by file: per exporter, the batch numbers missing before ones that arrived, and since when (this device's clock). */
    batchGaps: z.array(batchGapSchema).default([]),
    /** Site/central: data files without their manifest, manifests without their data file, older than unmatchedFileMinutes. */
    unmatchedFiles: z.array(unmatchedFileSchema).default([]),
    /** Per producer, why its transactions wait here: gap, deferred, blocked, schema, key (see producerWaitSchema). */
    producerWaits: z.array(producerWaitSchema).default([]),
  }),
  records: z.record(z.string(), z.number().int()),
  lastSync: z.string().nullable(),
  /** The installed key set: full (reads participants' details), carrier (a middleman's: cannot), none (absent or unreadable). */
  keyScope: z.enum(['none', 'full', 'carrier']).default('none'),
  /** A middleman holding the full key set: it could read participants' details and should hold the carrier set. */
  keysWarning: z.boolean().default(false),
});
export type Status = z.infer<typeof statusSchema>;
