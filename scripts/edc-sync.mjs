#!/usr/bin/env node
// The `edc-sync` command: runs the bundled command line, dist/cli/edc-sync.mjs (scripts/build-cli.mjs bundles
// electron/cli.ts with esbuild). When the bundle is missing or any of its sources is newer, it is rebuilt first,
// so a clean clone works after `npm ci` and an edit is never run stale. `--version` answers from package.json
// without loading the bundle.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('../package.json')), 'utf8')).version}\n`);
} else {
  // `edc-sync status | head -1`: a reader that stops early is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  }
  const { bundlePath, ensureCli } = await import('./build-cli.mjs');
  let bundle;
  try {
    // Said only at a terminal: a script or test reading stderr sees the command's own lines.
    bundle = await ensureCli({ log: (line) => { if (process.stderr.isTTY) process.stderr.write(`${line}\n`); } });
  } catch (e) {
    // An install without the dev tools (npm ci --omit=dev) cannot rebuild: run the bundle it has, if any.
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !/esbuild/.test(String(e.message))) throw e;
    bundle = bundlePath();
    if (!existsSync(bundle)) {
      process.stderr.write('edc-sync: the command line is not built and esbuild is not installed: run `npm ci && npm run build:cli` [INTERNAL]\n');
      process.exit(1);
    }
    process.stderr.write('edc-sync: warning: the sources are newer than dist/cli but esbuild is not installed; running the bundle as built\n');
  }
  const { main } = await import(pathToFileURL(bundle).href);
  process.exitCode = await main(process.argv);
}
