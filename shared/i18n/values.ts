/**
 * The coded answers a record stores (gender "F", visit reason "scheduled", TB symptoms "night_sweats", true/false),
 * read from the zod schemas of shared/domain.ts, so no list of codes is typed twice: a screen shows each through
 * `value()` (format.ts) as its words in the catalogue, `values.<field>.<code>`, and a boolean as Yes / No.
 */
import { z } from 'zod';
import { modelInputs, PANELS } from '../domain.ts';

/** Fields whose codes are already the words people use: the visit's number on the schedule ("Visit 1000"). */
export const CODES_AS_WORDS: ReadonlySet<string> = new Set(['visitCode']);

const unwrap = (t: z.ZodType): z.ZodType => (t instanceof z.ZodNullable || t instanceof z.ZodOptional ? unwrap(t.unwrap() as z.ZodType) : t);

const enums = new Map<string, Set<string>>();
const booleans = new Set<string>();
for (const schema of Object.values(modelInputs)) {
  for (const [field, t] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const inner = unwrap(t);
    if (inner instanceof z.ZodEnum) {
      const codes = enums.get(field) ?? new Set<string>();
      for (const o of inner.options) codes.add(String(o));
      enums.set(field, codes);
    } else if (inner instanceof z.ZodBoolean) booleans.add(field);
  }
}

// A tube's test and specimen are free strings in the schema (a study may add a test), but the tests the app offers
// are PANELS': those codes have words too (values.panel.*, values.specimenType.*), stored as they are.
enums.set('panel', new Set([...(enums.get('panel') ?? []), ...Object.keys(PANELS)]));
enums.set('specimenType', new Set([...(enums.get('specimenType') ?? []), ...Object.values(PANELS).flat()]));

/** Every field (by its name in the code) that holds one of a fixed list of codes, with those codes, over all models. */
export const ENUM_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = enums;
/** Every field that holds true / false. */
export const BOOLEAN_FIELDS: ReadonlySet<string> = booleans;

/** The catalogue key of a coded value (field by its name or its column), or null when the value is not one of its field's codes. */
export function valueKey(column: string, v: unknown): string | null {
  // A record read from the store names its fields as its columns do (specimen_type): the same field.
  const field = column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  if (typeof v === 'boolean') return v ? 'common.yes' : 'common.no';
  if (BOOLEAN_FIELDS.has(field) && (v === 0 || v === 1)) return v === 1 ? 'common.yes' : 'common.no';
  if (typeof v === 'string' && !CODES_AS_WORDS.has(field) && ENUM_FIELDS.get(field)?.has(v)) return `values.${field}.${v}`;
  return null;
}
