import { z } from 'zod';

const key32 = z.base64().refine((s) => s.length === 44, 'a 32-byte key in base64');
const keyIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);
const keyEntry = z.object({ keyId: keyIdSchema, created: z.iso.datetime(), key: key32 });

/**
 * What a key set can do. `full` (the default when absent): envelopes and participants' details (PII columns).
 * `carrier` (a middleman's copy, `keys export --for middleman`): envelopes only; it holds neither the PII field keys
 * nor the lookup key, so PII columns stay ciphertext on that device.
 */
export const KEYSET_SCOPES = ['full', 'carrier'] as const;
export type KeysetScope = (typeof KEYSET_SCOPES)[number];

/** The project key set file (`keys export` writes it, `keys import` reads it). Secret: keep it off shared drives. */
export const keysetFileSchema = z.object({
  format: z.literal('edc-sync-keyset'),
  version: z.literal(1),
  projectId: z.uuid(),
  /** Absent: full. */
  scope: z.enum(KEYSET_SCOPES).optional(),
  /** HMAC key for the lookup hashes beside PII columns; never rotated, so lookups keep working. Not in a carrier set. */
  lookupKey: key32.optional(),
  /** Key used for new envelope ciphertext; older keys stay for decryption (rotation). */
  activeKeyId: keyIdSchema,
  /** Envelope keys (and, for field ciphertext written before the set had PII keys, those fields' keys). */
  keys: z.array(keyEntry).min(1),
  /** Keys of the PII columns' field ciphertext (`enc1:<keyId>:…`); absent in a carrier set and in sets made before them. */
  piiKeys: z.array(keyEntry).min(1).optional(),
  activePiiKeyId: keyIdSchema.optional(),
}).strict()
  .refine((f) => f.keys.some((k) => k.keyId === f.activeKeyId), 'activeKeyId must name one of the keys')
  .refine((f) => new Set([...f.keys, ...(f.piiKeys ?? [])].map((k) => k.keyId)).size === f.keys.length + (f.piiKeys?.length ?? 0), 'keyIds must be unique')
  .refine((f) => f.scope === 'carrier' || f.lookupKey !== undefined, 'a full key set needs its lookupKey')
  .refine((f) => f.scope !== 'carrier' || (f.lookupKey === undefined && f.piiKeys === undefined && f.activePiiKeyId === undefined),
    'a carrier key set holds no lookupKey and no piiKeys')
  .refine((f) => (f.piiKeys === undefined) === (f.activePiiKeyId === undefined) && (!f.piiKeys || f.piiKeys.some((k) => k.keyId === f.activePiiKeyId)),
    'activePiiKeyId must name one of the piiKeys');
export type KeysetFile = z.infer<typeof keysetFileSchema>;
