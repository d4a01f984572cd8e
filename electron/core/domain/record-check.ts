/**
 * Checks a decrypted record (stored form: SQL column names, PII as field ciphertext) against its model before the
 * consumer writes it: the sync columns' forms, every PII column in `enc1:` form with its lookup hash, and every
 * other column against the same zod input schema the write path uses. A producer holding the study keys can still
 * encrypt anything; this is what keeps plaintext PII, a gender of `Q` or a non-date out of the tables.
 */
import { z } from 'zod';
import { deviceIdSchema } from '../../../shared/settings.ts';
import type { RawRow } from '../envelope.ts';
import type { Model } from './registry.ts';

const ENC1 = /^enc1:[A-Za-z0-9-]{1,64}:[A-Za-z0-9+/=]{40,}$/;
const LOOKUP_HASH = /^[A-Za-z0-9_-]{43}$/;
const short = z.string().min(1).max(255);
const syncColumns: Record<string, z.ZodType> = {
  id: z.uuid(),
  created: z.iso.datetime(),
  modified: z.iso.datetime(),
  user_created: short,
  user_modified: short,
  hostname_created: short,
  hostname_modified: short,
  device_id: deviceIdSchema,
  revision: z.number().int().positive(),
};

const pickCache = new Map<string, Map<string, z.ZodType>>();

function fieldSchemas(model: Model): Map<string, z.ZodType> {
  let m = pickCache.get(model.txName);
  if (!m) {
    const shape = (model.input as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
    m = new Map(Object.entries(shape));
    pickCache.set(model.txName, m);
  }
  return m;
}

/** Null when the record is a valid stored row of the model; else `column <name>: <what is wrong>`. */
export function recordProblem(model: Model, record: RawRow): string | null {
  for (const [col, schema] of Object.entries(syncColumns)) {
    const r = schema.safeParse(record[col]);
    if (!r.success) return `column ${col}: ${r.error.issues[0]?.message ?? 'invalid'}`;
  }
  const fields = fieldSchemas(model);
  for (const p of model.pii) {
    const value = record[p.sql];
    const hash = record[p.hashSql];
    const nullable = fields.get(p.js)?.safeParse(null).success ?? false;
    if (value === null || value === undefined) {
      if (!nullable) return `column ${p.sql}: required`;
      if (hash !== null && hash !== undefined) return `column ${p.hashSql}: set for an empty ${p.sql}`;
      continue;
    }
    if (typeof value !== 'string' || !ENC1.test(value)) return `column ${p.sql}: not field ciphertext (enc1:…); plaintext personal data is refused`;
    if (typeof hash !== 'string' || !LOOKUP_HASH.test(hash)) return `column ${p.hashSql}: not a lookup hash`;
  }
  for (const c of model.columns) {
    const schema = fields.get(c.js);
    if (!schema || model.pii.some((p) => p.js === c.js)) continue;
    const r = schema.safeParse(c.fromDriver(record[c.sql]));
    if (!r.success) return `column ${c.sql}: ${r.error.issues[0]?.message ?? 'invalid'}`;
  }
  return null;
}
