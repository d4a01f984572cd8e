/**
 * One test per migration, generic over the journal: migrate to N−1, put a row in every table, migrate to N, and
 * every row is still there, unchanged. A new migration is covered without writing a new test; it must only add.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MIGRATIONS_DIR, readJournal } from '../store.ts';

interface ColumnInfo { name: string; type: string; notnull: number; pk: number }

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

function sampleValue(col: ColumnInfo, table: string): string | number {
  const t = col.type.toUpperCase();
  if (t.includes('INT')) return col.name === 'revision' ? 1 : 7;
  if (t.includes('REAL')) return 1.5;
  if (t.includes('BLOB')) return `blob-${table}`;
  return `${table}.${col.name}`;
}

/** Migrations folder holding only the first n journal entries. */
function partialMigrations(root: string, n: number): string {
  const dir = path.join(root, `m${n}`);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, n);
  writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe('migrations', () => {
  let root: string;
  before(() => { root = mkdtempSync(path.join(os.tmpdir(), 'edc-mig-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  const entries = readJournal(MIGRATIONS_DIR).entries;
  it('the journal has the migrations the store applies', () => {
    assert.ok(entries.length >= 2);
    assert.deepEqual(entries.map((e) => e.idx), entries.map((_, i) => i));
  });

  for (let n = 1; n <= entries.length; n++) {
    it(`${entries[n - 1]!.tag}: rows written before it survive it`, () => {
      const db = new Database(path.join(root, `n${n}.db`));
      db.pragma('foreign_keys = OFF'); // sample rows do not form a valid graph; FK checks are not what is tested
      db.function('edc_write_guard', () => 1);
      const orm = drizzle(db);
      migrate(orm, { migrationsFolder: partialMigrations(root, n - 1) });
      const before = new Map<string, unknown[]>();
      for (const table of tables(db)) {
        const cols = db.prepare(`PRAGMA table_info("${table}")`).all() as ColumnInfo[];
        const insertable = cols.filter((c) => !(c.pk && c.type.toUpperCase() === 'INTEGER'));
        db.prepare(`INSERT INTO "${table}" (${insertable.map((c) => `"${c.name}"`).join(', ')}) VALUES (${insertable.map(() => '?').join(', ')})`)
          .run(insertable.map((c) => sampleValue(c, table)));
        before.set(table, db.prepare(`SELECT * FROM "${table}"`).all());
      }
      migrate(orm, { migrationsFolder: partialMigrations(root, n) });
      for (const [table, rows] of before) {
        const now = db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[];
        assert.equal(now.length, rows.length, `${table}: row count`);
        for (const [i, row] of (rows as Record<string, unknown>[]).entries()) {
          for (const [k, v] of Object.entries(row)) assert.deepEqual(now[i]![k], v, `${table}.${k} unchanged`);
        }
      }
      db.close();
    });
  }
});
