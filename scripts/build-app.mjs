// Builds the desktop app: the renderer with Vite, then main (ESM), the backend worker (ESM) and the sandboxed
// preload (CJS) with esbuild into dist/electron/, plus the migrations the worker applies at start-up.
import { build } from 'esbuild';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** main.mjs, worker.mjs, preload.cjs and db/migrations into `out` (the tests build into a temp folder). */
export async function buildDesktop(out) {
rmSync(out, { recursive: true, force: true });

// Native modules and Electron stay outside the bundles (electron-builder unpacks the .node files).
const external = ['electron', 'better-sqlite3', 'ssh2', 'cpu-features', 'pg-native'];
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const esm = {
  define: { __EDC_SYNC_VERSION__: JSON.stringify(version) },
  bundle: true, platform: 'node', target: 'node22', format: 'esm', external, sourcemap: true, logLevel: 'warning',
  // Bundled CommonJS dependencies call require(); give ESM output a real one.
  banner: { js: "import { createRequire as __edcCreateRequire } from 'node:module'; const require = __edcCreateRequire(import.meta.url);" },
};
await build({ ...esm, entryPoints: { main: path.join(root, 'electron/main.ts') }, outdir: out, outExtension: { '.js': '.mjs' } });
await build({ ...esm, entryPoints: { worker: path.join(root, 'electron/shell/worker.ts') }, outdir: out, outExtension: { '.js': '.mjs' } });
await build({ ...esm, entryPoints: { 'pg-worker': path.join(root, 'electron/core/db/pg-worker.ts') }, outdir: out, outExtension: { '.js': '.mjs' } });
await build({
  bundle: true, platform: 'node', target: 'node22', format: 'cjs', external: ['electron'], sourcemap: 'inline', logLevel: 'warning',
  entryPoints: { preload: path.join(root, 'electron/preload.ts') }, outdir: out, outExtension: { '.js': '.cjs' },
});
// store.ts finds its migrations beside itself (import.meta.url): in the bundle that is dist/electron/.
cpSync(path.join(root, 'electron/core/db/migrations'), path.join(out, 'db', 'migrations'), { recursive: true });
cpSync(path.join(root, 'electron/core/db/migrations-pg'), path.join(out, 'db', 'migrations-pg'), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--no-renderer')) {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  }
  const out = path.join(root, 'dist', 'electron');
  await buildDesktop(out);
  console.log(`built ${path.relative(root, out)}: main.mjs, worker.mjs, preload.cjs, db/migrations (+ dist/renderer)`);
}
