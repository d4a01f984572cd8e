import { z } from 'zod';
import { roleSchema } from './settings.ts';

/** An exporter's batches that have not arrived while later ones have (import waits for them). */
export const batchGapSchema = z.object({ exporter: z.string(), from: z.number().int(), to: z.number().int(), since: z.string() });
export type BatchGap = z.infer<typeof batchGapSchema>;
export const unmatchedFileSchema = z.object({ fileName: z.string(), kind: z.enum(['data-without-manifest', 'manifest-without-data']), since: z.string() });
export type UnmatchedFile = z.infer<typeof unmatchedFileSchema>;

export const gapSchema = z.object({ producer: z.string(), from: z.number().int(), to: z.number().int() });
export type Gap = z.infer<typeof gapSchema>;

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
  }),
  records: z.record(z.string(), z.number().int()),
  lastSync: z.string().nullable(),
  /** The installed key set: full (reads participants' details), carrier (a middleman's: cannot), none (absent or unreadable). */
  keyScope: z.enum(['none', 'full', 'carrier']).default('none'),
  /** A middleman holding the full key set: it could read participants' details and should hold the carrier set. */
  keysWarning: z.boolean().default(false),
});
export type Status = z.infer<typeof statusSchema>;
