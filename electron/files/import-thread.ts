/**
 * "Import arrived files" of a server whose store is in PostgreSQL, in a worker thread with its own connection (see
 * import-in-thread.ts): every statement of a long import waits here, never on the thread that answers devices and
 * the web UI. Progress and the result (or the error, by its code) go back as messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { classifyError, isEdcError } from '../../shared/errors.ts';
import { drain } from '../core/steps.ts';
import { Store } from '../core/store.ts';
import { importSteps } from './import.ts';
import type { ImportThreadMessage } from './import-in-thread.ts';

const port = parentPort;
if (!port) throw new Error('import-thread.ts runs as a worker thread');
const { dataDir, dir } = z.object({ dataDir: z.string().min(1), dir: z.string().min(1).optional() }).parse(workerData);
const send = (m: ImportThreadMessage) => port.postMessage(m);

let store: Store | undefined;
try {
  store = Store.open(dataDir);
  const result = drain(importSteps(store, dir, (p) => send({ type: 'progress', progress: p })));
  send({ type: 'done', result });
} catch (e) {
  const c = classifyError(e);
  send(isEdcError(c) ? { type: 'failed', code: c.code, detail: c.detail ?? null } : { type: 'failed', code: 'INTERNAL', detail: c instanceof Error ? c.message : String(c) });
} finally {
  store?.close();
  port.close();
}
