// The bundled command line: electron/cli.ts → dist/cli/edc-sync.mjs (esbuild, one ESM file; native and optional
// dependencies stay in node_modules), the migrations the store applies → dist/cli/db/migrations, and
// dist/cli/inputs.json: every source file of the bundle with its mtime, size and sha256, so the launcher
// (scripts/edc-sync.mjs) can tell at start-up, with a stat per file, whether the bundle is older than the code.
// `npm run build:cli` builds it; the launcher builds it on first use and after any edit (ensureCli below).
//
// Concurrent starts never race: one process builds under a lock file while the others wait for it, and every
// output file is written beside its place and renamed over it (a running process keeps the copy it opened);
// inputs.json is written last, so a bundle is taken as fresh only once all of it is in place.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The checkout this script is in (a test's temp copy of the sources builds its own dist/cli). */
export const ROOT = path.resolve(here, '..');

/** The migrations each store applies (SQLite; PostgreSQL for a central store on it). */
const MIGRATION_DIRS = ['electron/core/db/migrations', 'electron/core/db/migrations-pg'];
/** Files that change the bundle without being imported by it. */
const EXTRA_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'scripts/build-cli.mjs'];
const FORMAT = 1;

export function outDir(root = ROOT) { return path.join(root, 'dist', 'cli'); }
export function bundlePath(root = ROOT) { return path.join(outDir(root), 'edc-sync.mjs'); }

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : [p];
  });
}

/** Writes data to file atomically: a reader sees the old content or the new, never a part. */
function writeAtomic(file, data) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function readInputs(root) {
  try {
    const inputs = JSON.parse(readFileSync(path.join(outDir(root), 'inputs.json'), 'utf8'));
    return inputs.format === FORMAT && inputs.files && typeof inputs.files === 'object' ? inputs : null;
  } catch {
    return null;
  }
}

/**
 * Whether dist/cli holds a bundle of the sources as they are now. A file whose mtime or size moved but whose
 * content did not (a checkout, a `touch`) still counts as unchanged; its new mtime is recorded so the next start
 * need not hash it again.
 */
export function isFresh(root = ROOT) {
  const inputs = readInputs(root);
  if (!inputs) return false;
  let moved = false;
  for (const [rel, rec] of Object.entries(inputs.files)) {
    let st;
    try {
      st = statSync(path.join(root, rel));
    } catch {
      return false; // a source went away: rebuild (and let esbuild say what is missing)
    }
    if (st.mtimeMs === rec.mtimeMs && st.size === rec.size) continue;
    if (st.size !== rec.size || sha256(path.join(root, rel)) !== rec.sha256) return false;
    rec.mtimeMs = st.mtimeMs;
    moved = true;
  }
  if (moved) {
    try { writeAtomic(path.join(outDir(root), 'inputs.json'), `${JSON.stringify(inputs, null, 1)}\n`); } catch { /* read-only install: hash again next time */ }
  }
  return true;
}

/** Builds dist/cli from the sources (no lock: see ensureCli). Returns the bundle's path. */
export async function buildCli(root = ROOT) {
  const { build } = await import('esbuild');
  const out = outDir(root);
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const result = await build({
    absWorkingDir: root,
    // pg-worker: a central store on PostgreSQL runs its connection in this worker thread (core/db/pg-port.ts).
    // consume-thread: a server on such a store consumes in this worker thread (server/background.ts).
    // import-thread: a web server on such a store runs "Import arrived files" in this worker thread (files/import-in-thread.ts).
    entryPoints: { 'edc-sync': path.join(root, 'electron/cli.ts'), 'pg-worker': path.join(root, 'electron/core/db/pg-worker.ts'), 'consume-thread': path.join(root, 'electron/server/consume-thread.ts'), 'import-thread': path.join(root, 'electron/files/import-thread.ts') },
    outdir: out, outExtension: { '.js': '.mjs' }, write: false, metafile: true,
    // The commands' dynamic imports (HTTP server and client, SFTP) become chunks, compiled only when used. They
    // sit beside the entry: paths found from import.meta.url (migrations, dist/renderer) are the same in each.
    splitting: true, chunkNames: '[name]-[hash]',
    bundle: true, platform: 'node', target: 'node20', format: 'esm', sourcemap: 'linked', logLevel: 'warning',
    // Native modules (and ssh2's optional native helper) load from node_modules at run time.
    external: ['electron', 'better-sqlite3', 'ssh2', 'cpu-features', 'pg-native'],
    define: { __EDC_SYNC_VERSION__: JSON.stringify(version) },
    // Bundled CommonJS dependencies call require(); give ESM output a real one.
    banner: { js: "import { createRequire as __edcCreateRequire } from 'node:module'; const require = __edcCreateRequire(import.meta.url);" },
  });
  // The store finds its migrations beside its module (import.meta.url): in the bundle that is dist/cli/db/migrations
  // (and db/migrations-pg).
  const migrationFiles = [];
  for (const dir of MIGRATION_DIRS) {
    const migrationsOut = path.join(out, 'db', path.basename(dir));
    const files = listFiles(path.join(root, dir));
    migrationFiles.push(...files);
    const keep = new Set();
    for (const file of files) {
      const target = path.join(migrationsOut, path.relative(path.join(root, dir), file));
      keep.add(target);
      writeAtomic(target, readFileSync(file));
    }
    try {
      for (const old of listFiles(migrationsOut)) if (!keep.has(old)) unlinkSync(old);
    } catch { /* nothing there yet */ }
  }
  // Chunks first (a name is its content's hash), then the entry that imports them.
  const entry = bundlePath(root);
  for (const file of result.outputFiles) if (file.path !== entry) writeAtomic(file.path, file.contents);
  for (const file of result.outputFiles) if (file.path === entry) writeAtomic(file.path, file.contents);
  // A chunk neither this build nor the one before uses goes: a process started on the previous bundle may still
  // be about to load one of its chunks.
  const outputs = result.outputFiles.map((f) => path.relative(out, f.path).split(path.sep).join('/'));
  const previous = new Set(readInputs(root)?.outputs ?? []);
  for (const name of readdirSync(out)) {
    if (/\.mjs(\.map)?$/.test(name) && !outputs.includes(name) && !previous.has(name)) rmSync(path.join(out, name), { force: true });
  }

  const sources = Object.keys(result.metafile.inputs).filter((p) => !p.split(/[\\/]/).includes('node_modules'));
  const rels = [...new Set([...sources, ...EXTRA_INPUTS, ...migrationFiles.map((f) => path.relative(root, f))])]
    .map((p) => path.relative(root, path.resolve(root, p)).split(path.sep).join('/'))
    .filter((rel) => { try { return statSync(path.join(root, rel)).isFile(); } catch { return false; } })
    .sort();
  const files = {};
  for (const rel of rels) {
    const st = statSync(path.join(root, rel));
    files[rel] = { mtimeMs: st.mtimeMs, size: st.size, sha256: sha256(path.join(root, rel)) };
  }
  writeAtomic(path.join(out, 'inputs.json'), `${JSON.stringify({ format: FORMAT, version, outputs, files }, null, 1)}\n`);
  return bundlePath(root);
}


function lockHolderGone(lock) {
  try {
    const st = statSync(lock);
    const pid = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) {
      try { process.kill(pid, 0); } catch (e) { return e.code === 'ESRCH'; }
      return Date.now() - st.mtimeMs > 300_000; // alive but five minutes on one build: take over
    }
    return Date.now() - st.mtimeMs > 10_000; // created, pid not written yet (or never: its writer died)
  } catch {
    return false; // already released
  }
}

/**
 * The bundle's path, built first when it is missing or older than a source. One process builds (under
 * dist/cli/.build.lock) while any others started meanwhile wait, then use what it built.
 * `log` hears one line when a build starts; `force` builds even a fresh bundle (`npm run build:cli`).
 */
export async function ensureCli({ root = ROOT, log = () => {}, force = false } = {}) {
  if (!force && isFresh(root)) return bundlePath(root);
  const lock = path.join(outDir(root), '.build.lock');
  mkdirSync(outDir(root), { recursive: true });
  for (;;) {
    let fd;
    try {
      fd = openSync(lock, 'wx');
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (lockHolderGone(lock)) rmSync(lock, { force: true });
      else await sleep(50);
      if (!force && isFresh(root)) return bundlePath(root);
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (force || !isFresh(root)) {
        log(`edc-sync: building the command line (${path.relative(process.cwd(), outDir(root)) || '.'}) from the sources…`);
        await buildCli(root);
      }
      return bundlePath(root);
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bundle = await ensureCli({ force: true });
  console.log(`built ${path.relative(ROOT, bundle)} (+ pg-worker.mjs, consume-thread.mjs, import-thread.mjs, inputs.json, db/migrations, db/migrations-pg)`);
}
