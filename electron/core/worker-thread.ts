/**
 * Starts one of this project's worker threads from wherever the code runs: the bundles (dist/cli, dist/electron) hold
 * `<name>.mjs` beside the module that starts it; the TypeScript sources (tests and scripts under `node --import tsx`)
 * hold `<name>.ts`, and worker threads do not inherit tsx's loader, so such a worker registers it before importing
 * its module. `onLoadError` (JavaScript, given `e`) runs in the worker if its module cannot be loaded.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(base: string, candidates: readonly string[], options: WorkerOptions, onLoadError = 'throw e;'): Worker {
  for (const rel of candidates) {
    const url = new URL(rel, base);
    if (!existsSync(fileURLToPath(url))) continue;
    if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); }).catch((e) => { ${onLoadError} })`, { ...options, eval: true });
  }
  throw new Error(`worker ${candidates.join(' / ')} not found beside ${base}`);
}
