/**
 * Transaction files (DESIGN section 5): `<producer>_<batchSeq>_<batchId>.jsonl.gz` holds one wire envelope per line;
 * `<same name>.manifest.json` describes it and is written last, so a batch without a manifest is never read.
 * A receipt is written by the importer into `receipts/<batchId>.json` of its incoming folder.
 */
import { z } from 'zod';
import { carriedStateSchema, MAX_CONTACT_PRODUCERS, producerStateSchema } from './fleet.ts';
import { deviceListSchema } from './device-list.ts';
import { deviceIdSchema } from './settings.ts';

export const BATCH_SUFFIX = '.jsonl.gz';
export const MANIFEST_SUFFIX = '.manifest.json';

export function batchFileName(producer: string, batchSeq: number, batchId: string): string {
  return `${producer}_${String(batchSeq).padStart(6, '0')}_${batchId}${BATCH_SUFFIX}`;
}

const devicePublicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const deviceSignature = z.string().regex(/^[A-Za-z0-9_-]{86}$/);

export const manifestSchema = z.object({
  format: z.literal('edc-sync-batch'),
  version: z.literal(1),
  /** The device that exported the batch; batch numbers count per producer, 1, 2, 3… */
  producer: deviceIdSchema,
  batchSeq: z.number().int().positive(),
  batchId: z.uuid(),
  previousBatchId: z.uuid().nullable(),
  fileName: z.string().regex(/^[A-Za-z0-9-]+_[0-9]{6,}_[0-9a-f-]{36}\.jsonl\.gz$/),
  count: z.number().int().positive(),
  /** Per original producer in the batch: first and last producerSeq and how many. */
  ranges: z.array(z.object({ producer: deviceIdSchema, first: z.number().int().positive(), last: z.number().int().positive(), count: z.number().int().positive() })).min(1).max(MAX_CONTACT_PRODUCERS),
  /** Of the .jsonl.gz file as written. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  appVersion: z.string(),
  schemaVersion: z.number().int().positive(),
  createdAt: z.iso.datetime(),
  /** The exporter's state when it wrote the batch (optional: older exporters do not write it). */
  state: producerStateSchema.optional(),
  /** What the exporter last heard from the original producers in the batch (their announced latest seq, versions, clocks). */
  carried: z.array(carriedStateSchema).max(MAX_CONTACT_PRODUCERS).optional(),
  /**
   * A site's signed device list (its paired devices and their keys, shared/device-list.ts): the importer verifies the
   * envelopes' own signatures under those keys. Absent from older exporters and from laptops.
   */
  deviceList: deviceListSchema.optional(),
  /** The exporter's device key and its signature of this manifest (electron/files/signing.ts); absent from older exporters. */
  publicKey: devicePublicKey.optional(),
  sig: deviceSignature.optional(),
}).strict();
export type Manifest = z.infer<typeof manifestSchema>;

export const receiptSchema = z.object({
  format: z.literal('edc-sync-receipt'),
  version: z.literal(1),
  batchId: z.uuid(),
  producer: deviceIdSchema,
  batchSeq: z.number().int().positive(),
  /** The device that imported it. */
  receiver: z.string(),
  count: z.number().int().nonnegative(),
  sha256: z.string(),
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  consumed: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  importedAt: z.iso.datetime(),
  /** Per original producer in the batch: the receiver holds every producerSeq up to `contiguous` (optional: older receivers). */
  held: z.array(z.object({ producer: deviceIdSchema, contiguous: z.number().int().nonnegative() }).strict()).max(MAX_CONTACT_PRODUCERS).optional(),
  /** The receiver's device key and its signature of this receipt; absent from older receivers. */
  publicKey: devicePublicKey.optional(),
  sig: deviceSignature.optional(),
}).strict();
export type Receipt = z.infer<typeof receiptSchema>;
