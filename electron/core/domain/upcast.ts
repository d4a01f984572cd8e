/**
 * Upcasters: a record written by an older schema, read as today's. Each schema step registers, per model it changed,
 * how a record of the version before becomes one of its version; a record of schema `v` is carried through every step
 * from `v + 1` to SCHEMA_VERSION in order. Fleets upgrade in waves, so a site reads payloads of every version its
 * laptops still run, for as long as any of them does (the golden schema-1 fixtures are consumed by every later
 * version: golden-v1.test.ts).
 *
 * A step only says what the older record lacks or names differently; it never invents data. A column added by a step
 * is, for an insert, its default (nothing was measured), and for an update or a delete, the value the receiver holds
 * (the older producer could not see the column, so it cannot have changed it).
 */
import { EdcError } from '../../../shared/errors.ts';
import type { TxName } from '../../../shared/domain.ts';
import type { RawRow, RawValue } from '../envelope.ts';

export interface UpcastStep {
  /** Columns this step added, with what an insert of the version before gets. */
  added?: Readonly<Record<string, RawValue>>;
  /** Anything beyond added columns (a rename, a unit change); may throw when the record cannot be carried over. */
  transform?: (record: RawRow) => RawRow;
}

/** Steps by the schema version they lead to, then by model. */
export type UpcastSteps = Readonly<Record<number, Partial<Readonly<Record<TxName, UpcastStep>>>>>;

export const UPCAST_STEPS: UpcastSteps = {
  // Schema 2: oxygen saturation on the vital-signs form.
  2: { 'edc.vital_signs': { added: { oxygen_saturation: null } } },
};

/**
 * `record` (stored form: SQL column names) of `txName`, written at schema `from`, as schema `to`. `current` is the
 * receiver's row for an update or a delete (null for an insert, or when it is not here). Throws PAYLOAD_INVALID when
 * the record already claims a column its version did not have (a mislabelled or forged version) or a step fails.
 */
export function upcast(txName: TxName, record: RawRow, from: number, to: number, current: RawRow | null = null, steps: UpcastSteps = UPCAST_STEPS): RawRow {
  let out = record;
  for (let v = from + 1; v <= to; v++) {
    const step = steps[v]?.[txName];
    if (!step) continue;
    if (step.added) {
      out = { ...out };
      for (const [column, initial] of Object.entries(step.added)) {
        if (column in record) {
          throw new EdcError('PAYLOAD_INVALID', `a schema-${from} ${txName} record has ${column}, which only schema ${v} has`);
        }
        out[column] = current && column in current ? current[column]! : initial;
      }
    }
    if (step.transform) {
      try {
        out = step.transform(out);
      } catch (e) {
        throw new EdcError('PAYLOAD_INVALID', `a schema-${from} ${txName} record cannot be read as schema ${v}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return out;
}
