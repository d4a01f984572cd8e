/**
 * The sync registry: each synced model's txName, table, natural key, parents (for ordering and deferral) and PII
 * columns. The write path and the consumer are generic over this table; adding a model is one entry here, one
 * table in db/schema.ts, one input schema in shared/domain.ts and a migration.
 */
import { getTableColumns, getTableName } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { modelInputs, type TxName } from '../../../shared/domain.ts';
import * as s from '../db/schema.ts';

/**
 * Version of the serialized record format. A newer consumer upcasts older payloads (domain/upcast.ts); an older one
 * keeps newer payloads waiting until it is upgraded. 2: oxygen saturation on vital signs.
 */
export const SCHEMA_VERSION = 2;

interface ModelSpec {
  table: SQLiteTable;
  /** JS property names forming the natural key (unique). */
  naturalKey: readonly string[];
  /** Foreign-key columns (JS names) and the model they point at: the parent must exist before the child applies. */
  parents: readonly { column: string; txName: TxName }[];
  /** JS property names stored encrypted, each with a `<name>Hash` lookup column. */
  pii: readonly string[];
}

const specs = {
  'edc.subject': { table: s.subject, naturalKey: ['subjectIdentifier'], parents: [], pii: ['firstName', 'lastName', 'dob', 'identityNumber', 'phone'] },
  'edc.consent': { table: s.consent, naturalKey: ['subjectId', 'version'], parents: [{ column: 'subjectId', txName: 'edc.subject' }], pii: [] },
  'edc.visit': { table: s.visit, naturalKey: ['subjectId', 'visitCode', 'visitCodeSequence'], parents: [{ column: 'subjectId', txName: 'edc.subject' }], pii: [] },
  'edc.vital_signs': { table: s.vitalSigns, naturalKey: ['visitId'], parents: [{ column: 'visitId', txName: 'edc.visit' }], pii: [] },
  'edc.medical_history': { table: s.medicalHistory, naturalKey: ['visitId'], parents: [{ column: 'visitId', txName: 'edc.visit' }], pii: [] },
  'edc.specimen_requisition': { table: s.specimenRequisition, naturalKey: ['requisitionIdentifier'], parents: [{ column: 'visitId', txName: 'edc.visit' }], pii: [] },
  'edc.specimen_reconciliation': { table: s.specimenReconciliation, naturalKey: ['reconciliationIdentifier'], parents: [], pii: [] },
  'edc.follow_up': { table: s.followUp, naturalKey: ['subjectIdentifier', 'visitCode'], parents: [], pii: ['contactName', 'contactPhone'] },
  'edc.specimen_custody': { table: s.specimenCustody, naturalKey: ['custodyIdentifier'], parents: [], pii: [] },
  'edc.set_aside': { table: s.setAside, naturalKey: ['transactionId'], parents: [], pii: [] },
} as const satisfies Record<TxName, ModelSpec>;

export interface Column {
  js: string;
  sql: string;
  toDriver: (v: unknown) => unknown;
  /** Stored value → JS value (0/1 → boolean for boolean columns). */
  fromDriver: (v: unknown) => unknown;
}

export interface Model {
  txName: TxName;
  tableName: string;
  /** All columns in table order. */
  columns: Column[];
  bySql: Map<string, Column>;
  byJs: Map<string, Column>;
  naturalKeySql: string[];
  parents: { columnSql: string; txName: TxName; tableName: string }[];
  /** [plaintext js name, ciphertext sql column, hash sql column] */
  pii: { js: string; sql: string; hashSql: string }[];
  input: (typeof modelInputs)[TxName];
}

function build(txName: TxName, spec: ModelSpec): Model {
  const cols = getTableColumns(spec.table);
  const columns: Column[] = Object.entries(cols).map(([js, c]) => ({ js, sql: c.name, toDriver: (v: unknown) => (v === null || v === undefined ? null : c.mapToDriverValue(v)),
    fromDriver: (v: unknown) => (v === null || v === undefined ? null : c.mapFromDriverValue(v)),
  }));
  const byJs = new Map(columns.map((c) => [c.js, c]));
  const sqlOf = (js: string) => {
    const c = byJs.get(js);
    if (!c) throw new Error(`registry: ${txName} has no column ${js}`);
    return c.sql;
  };
  return {
    txName,
    tableName: getTableName(spec.table),
    columns,
    byJs,
    bySql: new Map(columns.map((c) => [c.sql, c])),
    naturalKeySql: spec.naturalKey.map(sqlOf),
    parents: spec.parents.map((p) => ({ columnSql: sqlOf(p.column), txName: p.txName, tableName: getTableName(specs[p.txName].table) })),
    pii: spec.pii.map((js) => ({ js, sql: sqlOf(js), hashSql: sqlOf(`${js}Hash`) })),
    input: modelInputs[txName],
  };
}

export const MODELS: ReadonlyMap<string, Model> = new Map(
  (Object.entries(specs) as [TxName, ModelSpec][]).map(([txName, spec]) => [txName, build(txName, spec)]),
);

/** A stored row (sql column names) as the model's JS object (drizzle's property names and value types). */
export function toJs(model: Model, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    const c = model.bySql.get(k);
    if (c) out[c.js] = c.fromDriver(v);
  }
  return out;
}
