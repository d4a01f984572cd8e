import { z } from 'zod';

/** Actions of a transaction: insert, update, delete. */
export const ACTIONS = ['I', 'U', 'D'] as const;
export const actionSchema = z.enum(ACTIONS);
export type Action = z.infer<typeof actionSchema>;

export const RECEIVED_VIA = ['rest', 'middleman', 'file', 'copy'] as const;
export type ReceivedVia = (typeof RECEIVED_VIA)[number];

export const MAX_TX_BYTES = 1_048_576;

/**
 * The transaction envelope as it travels (REST body, file line). `tx` is base64 of nonce(12) | ciphertext | tag(16).
 * Everything except `tx` is readable metadata; the record itself, natural key included, is only in `tx`.
 */
export const wireEnvelopeSchema = z.object({
  id: z.uuid(),
  producer: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{1,31}$/),
  producerSeq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  txName: z.string().regex(/^[a-z][a-z0-9_.]{1,63}$/),
  txPk: z.uuid(),
  action: actionSchema,
  timestamp: z.iso.datetime(),
  schemaVersion: z.number().int().positive().max(10_000),
  keyId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  tx: z.base64().max(Math.ceil((MAX_TX_BYTES * 4) / 3) + 4),
  /**
   * The producer's Ed25519 signature (base64url of the raw 64 bytes) over every other field and the ciphertext
   * (electron/core/envelope.ts `envelopeSignedBytes`). Optional: envelopes made before devices had keys carry none.
   */
  sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/).optional(),
}).strict();
export type WireEnvelope = z.infer<typeof wireEnvelopeSchema>;

/** What the encrypted `tx` holds once decrypted (version 1). */
export const payloadSchema = z.object({
  v: z.literal(1),
  /** The stored row, keyed by column name; PII columns hold their field-level ciphertext. For a delete, the row as it was. */
  record: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
  /** Revision the change was made from: 0 for an insert. */
  baseRevision: z.number().int().nonnegative(),
  /**
   * The audit-history row written with the change on the producer. `changes` ({column: [old, new]}) travels for
   * updates only: for an insert it is every column [null, value] of `record`, for a delete [value, null].
   */
  history: z.object({
    id: z.uuid(),
    changes: z.record(z.string(), z.tuple([z.union([z.string(), z.number(), z.null()]), z.union([z.string(), z.number(), z.null()])])).optional(),
    user: z.string(),
    hostname: z.string(),
    at: z.iso.datetime(),
    /** Why the change was made, when the person said (absent from older producers; older receivers drop it). */
    reason: z.string().max(500).optional(),
  }),
});
export type Payload = z.infer<typeof payloadSchema>;
