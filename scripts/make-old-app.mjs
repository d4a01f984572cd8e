// Freezes today's command line as an "older app version" fixture: a minified bundle of electron/cli.ts (with its
// worker threads and migrations) under electron/core/testing/golden/v<SCHEMA_VERSION>/app/, run by the mixed-fleet
// tests (electron/core/mixed-versions.test.ts) as the site or central an older release would be. Native modules
// (better-sqlite3, ssh2) load from the repository's node_modules, as the real bundle does.
//
//   node scripts/make-old-app.mjs 1      (made on 2026-12-03 from the schema-1 code, before schema 2)
//
// Like the other golden fixtures it is made once, with the code of its day, and committed; never re-run it to make
// a failing mixed-fleet test pass: a failure there means a newer version no longer works beside an older one.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schema = Number(process.argv[2]);
if (!Number.isInteger(schema) || schema < 1) throw new Error('usage: node scripts/make-old-app.mjs SCHEMA_VERSION');
const registry = readFileSync(path.join(ROOT, 'electron/core/domain/registry.ts'), 'utf8');
if (!registry.includes(`export const SCHEMA_VERSION = ${schema};`)) throw new Error(`the sources are not at schema ${schema}`);
const out = path.join(ROOT, `electron/core/testing/golden/v${schema}/app`);
rmSync(out, { recursive: true, force: true });
const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
await build({
  absWorkingDir: ROOT,
  entryPoints: { 'edc-sync': 'electron/cli.ts', 'pg-worker': 'electron/core/db/pg-worker.ts', 'consume-thread': 'electron/server/consume-thread.ts' },
  outdir: out, outExtension: { '.js': '.mjs' }, splitting: true, chunkNames: 'c-[hash]',
  bundle: true, platform: 'node', target: 'node20', format: 'esm', minify: true, legalComments: 'none', logLevel: 'warning',
  external: ['electron', 'better-sqlite3', 'ssh2', 'cpu-features', 'pg-native'],
  define: { __EDC_SYNC_VERSION__: JSON.stringify(`${version}-schema${schema}`) },
  banner: { js: "import { createRequire as __edcCreateRequire } from 'node:module'; const require = __edcCreateRequire(import.meta.url);" },
});
mkdirSync(path.join(out, 'db'), { recursive: true });
for (const d of ['migrations', 'migrations-pg']) cpSync(path.join(ROOT, 'electron/core/db', d), path.join(out, 'db', d), { recursive: true });
writeFileSync(path.join(out, 'run.mjs'), "// The frozen command line: node run.mjs --data DIR <command> …\nimport { main } from './edc-sync.mjs';\nprocess.exitCode = await main(process.argv);\n");
console.log(`froze the schema-${schema} command line in ${path.relative(ROOT, out)}`);
