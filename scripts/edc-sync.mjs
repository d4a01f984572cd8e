#!/usr/bin/env node
// The `edc-sync` command: runs electron/cli.ts under plain Node (TypeScript through tsx).
import { register } from 'tsx/esm/api';

register();
// `edc-sync status | head -1`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}
const { main } = await import('../electron/cli.ts');
process.exitCode = await main(process.argv);
