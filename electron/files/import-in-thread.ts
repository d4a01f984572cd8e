/**
 * importSteps() in a worker thread of its own (import-thread.ts), for a server on a PostgreSQL store: the PostgreSQL
 * port waits synchronously for each round trip, which in the server's thread would hold up every request while a
 * large import is consumed. The thread opens its own connection; the import lock and the one-writer transactions
 * keep it one import at a time beside the CLI and the background consumer, as in-thread.
 */
import type { Progress } from '../../shared/api.ts';
import { EdcError, ERROR_CODES, type ErrorCode } from '../../shared/errors.ts';
import { startWorker } from '../core/worker-thread.ts';
import type { ImportResult } from './import.ts';

export type ImportThreadMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; result: ImportResult }
  | { type: 'failed'; code: ErrorCode; detail: string | null };

export function importInThread(dataDir: string, onProgress?: (p: Progress) => void, dir?: string): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, ['./import-thread.mjs', './import-thread.ts'], { workerData: { dataDir, ...(dir ? { dir } : {}) } });
    let settled = false;
    worker.on('message', (m: ImportThreadMessage) => {
      if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(new EdcError(m.code in ERROR_CODES ? m.code : 'INTERNAL', m.detail ?? undefined));
      }
    });
    worker.on('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new EdcError('INTERNAL', `the import thread stopped (exit ${code}) before it finished`));
      settled = true;
    });
  });
}
