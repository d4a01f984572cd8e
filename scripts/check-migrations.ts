/**
 * CI check: the committed drizzle-kit migrations match the schema, for each dialect: migrations/ against
 * electron/core/db/schema.ts (SQLite) and migrations-pg/ against schema-pg.ts (PostgreSQL, derived from schema.ts).
 * Runs `drizzle-kit generate` against a copy of each folder; any new file means the schema changed without a migration.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

function check(dialect: 'sqlite' | 'postgresql', schema: string, folder: string): void {
  const committed = path.join(root, folder);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'edc-migcheck-'));
  try {
    const out = path.join(tmp, 'migrations');
    cpSync(committed, out, { recursive: true });
    const before = readdirSync(out).sort();
    let log: string;
    try {
      // drizzle-kit takes --out relative to the working directory.
      log = execFileSync(path.join(root, 'node_modules/.bin/drizzle-kit'),
        ['generate', '--dialect', dialect, '--schema', schema, '--out', path.relative(root, out)],
        { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      console.error(`drizzle-kit generate (${dialect}) failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
      process.exit(1);
    }
    const after = readdirSync(out).sort();
    const added = after.filter((f) => !before.includes(f));
    if (added.length > 0 || !log.includes('No schema changes')) {
      const how = dialect === 'sqlite' ? '`npm run db:generate`' : '`npm run db:generate:pg`';
      console.error(`${folder} is out of date: drizzle-kit generated ${added.join(', ')}. Run ${how} and commit the result.\n${log}`);
      process.exit(1);
    }
    console.log(`${folder} matches the schema (${before.filter((f) => f.endsWith('.sql')).length} migrations)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

check('sqlite', './electron/core/db/schema.ts', 'electron/core/db/migrations');
check('postgresql', './electron/core/db/schema-pg.ts', 'electron/core/db/migrations-pg');
