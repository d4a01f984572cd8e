import { z } from 'zod';

const key32 = z.base64().refine((s) => s.length === 44, 'a 32-byte key in base64');

/** The project key set file (`keys export` writes it, `keys import` reads it). Secret: keep it off shared drives. */
export const keysetFileSchema = z.object({
  format: z.literal('edc-sync-keyset'),
  version: z.literal(1),
  projectId: z.uuid(),
  /** HMAC key for the lookup hashes beside PII columns; never rotated, so lookups keep working. */
  lookupKey: key32,
  /** Key used for new ciphertext; older keys stay for decryption (rotation). */
  activeKeyId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  keys: z.array(z.object({
    keyId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
    created: z.iso.datetime(),
    key: key32,
  })).min(1),
}).strict().refine((f) => f.keys.some((k) => k.keyId === f.activeKeyId), 'activeKeyId must name one of the keys')
  .refine((f) => new Set(f.keys.map((k) => k.keyId)).size === f.keys.length, 'keyIds must be unique');
export type KeysetFile = z.infer<typeof keysetFileSchema>;
