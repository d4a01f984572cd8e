/**
 * CI check: the committed drizzle-kit migrations match electron/core/db/schema.ts. Runs `drizzle-kit generate`
 * against a copy of the migrations folder; any new file means the schema changed without a migration.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const committed = path.join(root, 'electron/core/db/migrations');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'edc-migcheck-'));
try {
  const out = path.join(tmp, 'migrations');
  cpSync(committed, out, { recursive: true });
  const before = readdirSync(out).sort();
  let log: string;
  try {
    // drizzle-kit takes --out relative to the working directory.
    log = execFileSync(path.join(root, 'node_modules/.bin/drizzle-kit'),
      ['generate', '--dialect', 'sqlite', '--schema', './electron/core/db/schema.ts', '--out', path.relative(root, out)],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    console.error(`drizzle-kit generate failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    process.exit(1);
  }
  const after = readdirSync(out).sort();
  const added = after.filter((f) => !before.includes(f));
  if (added.length > 0 || !log.includes('No schema changes')) {
    console.error(`migrations are out of date: drizzle-kit generated ${added.join(', ')}. Run \`npm run db:generate\` and commit the result.\n${log}`);
    process.exit(1);
  }
  console.log(`migrations match the schema (${before.filter((f) => f.endsWith('.sql')).length} migrations)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
