/**
 * The same tables for PostgreSQL (the central store's option, DESIGN section 9), derived from ./schema.ts so the
 * two can never drift: every table, column, primary key, index (with its WHERE), unique index and foreign key of
 * the SQLite schema, with PostgreSQL types (integers and 0/1 booleans → bigint, real → double precision, blob →
 * bytea, autoincrement → identity). drizzle-kit generates migrations-pg/ from this file
 * (drizzle.pg.config.ts); schema-pg.test.ts checks the result column by column.
 *
 * Like schema.ts this imports only drizzle-orm, so drizzle-kit can load it on its own.
 */
import { getTableColumns, type SQL } from 'drizzle-orm';
import { bigint, customType, doublePrecision, foreignKey, index, pgTable, text, uniqueIndex, type AnyPgColumn, type PgColumnBuilderBase, type PgTableWithColumns } from 'drizzle-orm/pg-core';
import { getTableConfig, type SQLiteColumn, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as sqlite from './schema.ts';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

type AnyPgTable = PgTableWithColumns<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The PostgreSQL column for one SQLite column (name, type, nullability, default, primary key). */
function pgColumn(col: SQLiteColumn): PgColumnBuilderBase {
  const c = col as SQLiteColumn & { autoIncrement?: boolean; enumValues?: string[] };
  let b;
  switch (c.columnType) {
    case 'SQLiteText':
      b = c.enumValues?.length ? text(c.name, { enum: c.enumValues as [string, ...string[]] }) : text(c.name);
      break;
    case 'SQLiteInteger':
    case 'SQLiteBoolean':
    case 'SQLiteTimestamp':
      b = bigint(c.name, { mode: 'number' });
      break;
    case 'SQLiteReal':
      b = doublePrecision(c.name);
      break;
    case 'SQLiteBlobBuffer':
      b = bytea(c.name);
      break;
    default:
      throw new Error(`schema-pg: no PostgreSQL type for ${c.columnType} (${c.name})`);
  }
  if (c.notNull) b = b.notNull();
  if (c.hasDefault && c.default !== undefined) {
    const d = typeof c.default === 'boolean' ? Number(c.default) : c.default;
    b = (b as ReturnType<typeof text>).default(d as never);
  }
  if (c.primary) b = b.primaryKey();
  if (c.autoIncrement) b = (b as ReturnType<typeof bigint>).generatedByDefaultAsIdentity();
  return b;
}

const byName = new Map<string, AnyPgTable>();

function toPg(table: SQLiteTable): AnyPgTable {
  const cfg = getTableConfig(table);
  const keyOf = new Map<string, string>(); // column sql name → property key
  const columns: Record<string, PgColumnBuilderBase> = {};
  for (const [key, col] of Object.entries(getTableColumns(table))) {
    keyOf.set(col.name, key);
    columns[key] = pgColumn(col as SQLiteColumn);
  }
  const pgt: AnyPgTable = pgTable(cfg.name, columns, (t) => {
    const col = (c: { name: string }): AnyPgColumn => t[keyOf.get(c.name)!] as AnyPgColumn;
    const extra: unknown[] = [];
    for (const ix of cfg.indexes) {
      const { name, columns: cols, unique, where } = ix.config as { name: string; columns: { name: string }[]; unique: boolean; where?: SQL };
      let b = (unique ? uniqueIndex(name) : index(name)).on(...(cols.map(col) as [AnyPgColumn, ...AnyPgColumn[]]));
      if (where) b = b.where(where);
      extra.push(b);
    }
    for (const fk of cfg.foreignKeys) {
      const ref = fk.reference();
      const target = byName.get(getTableConfig(ref.foreignTable).name);
      if (!target) throw new Error(`schema-pg: ${cfg.name} references ${getTableConfig(ref.foreignTable).name}, declared later`);
      const targetKeys = new Map(Object.entries(getTableColumns(target)).map(([k, c]) => [(c as AnyPgColumn).name, k]));
      let b = foreignKey({
        name: fk.getName(),
        columns: ref.columns.map(col) as [AnyPgColumn, ...AnyPgColumn[]],
        foreignColumns: ref.foreignColumns.map((c) => target[targetKeys.get(c.name)!] as AnyPgColumn) as [AnyPgColumn, ...AnyPgColumn[]],
      });
      if (fk.onDelete) b = b.onDelete(fk.onDelete);
      if (fk.onUpdate) b = b.onUpdate(fk.onUpdate);
      extra.push(b);
    }
    if (cfg.primaryKeys.length || cfg.uniqueConstraints.length || cfg.checks.length) {
      throw new Error(`schema-pg: ${cfg.name} has table-level keys or checks this converter does not carry`);
    }
    return extra as never;
  });
  byName.set(cfg.name, pgt);
  return pgt;
}

const isTable = (v: unknown): v is SQLiteTable => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v;

/** Every table of schema.ts, converted, by the same export name. */
export const pgTables: Record<string, AnyPgTable> = Object.fromEntries(
  Object.entries(sqlite).filter(([, v]) => isTable(v)).map(([k, v]) => [k, toPg(v as SQLiteTable)]),
);

// Named exports, one per table, for drizzle-kit (it reads a schema module's exports); schema-pg.test.ts checks none is missing.
export const subject = pgTables.subject!;
export const consent = pgTables.consent!;
export const visit = pgTables.visit!;
export const vitalSigns = pgTables.vitalSigns!;
export const medicalHistory = pgTables.medicalHistory!;
export const specimenRequisition = pgTables.specimenRequisition!;
export const specimenReconciliation = pgTables.specimenReconciliation!;
export const followUp = pgTables.followUp!;
export const specimenCustody = pgTables.specimenCustody!;
export const setAside = pgTables.setAside!;
export const auditHistory = pgTables.auditHistory!;
export const outgoingTransaction = pgTables.outgoingTransaction!;
export const incomingTransaction = pgTables.incomingTransaction!;
export const receiveSession = pgTables.receiveSession!;
export const producerCursor = pgTables.producerCursor!;
export const syncConflict = pgTables.syncConflict!;
export const deviceState = pgTables.deviceState!;
export const fleetDevice = pgTables.fleetDevice!;
export const clockReading = pgTables.clockReading!;
export const device = pgTables.device!;
export const deviceEvent = pgTables.deviceEvent!;
export const pairingCode = pgTables.pairingCode!;
export const fileBatch = pgTables.fileBatch!;
export const fileImport = pgTables.fileImport!;
export const webUser = pgTables.webUser!;
export const webSession = pgTables.webSession!;
