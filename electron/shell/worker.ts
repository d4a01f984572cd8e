/**
 * The backend worker thread of the desktop app: opens the device's store and serves contract calls, so database
 * and sync work never run on the thread that drives the window. Messages: {id, name, input} in, {id, reply} out;
 * events go out as {event}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { createBackend } from '../app/backend.ts';
import { dispatch } from '../app/dispatch.ts';

const dataSchema = z.object({ dataDir: z.string().min(1), username: z.string().min(1) });
const requestSchema = z.object({ id: z.number().int(), name: z.string(), input: z.unknown() });

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');
const { dataDir, username } = dataSchema.parse(workerData);
const backend = createBackend({ dataDir, host: 'desktop', emit: (event) => port.postMessage({ event }) });
const who = { username, role: null };
const log = (line: string) => port.postMessage({ log: line });

port.on('message', (raw: unknown) => {
  if (raw === 'close') {
    void backend.close().then(() => port.postMessage({ closed: true }));
    return;
  }
  const msg = requestSchema.safeParse(raw);
  if (!msg.success) return;
  void dispatch(backend, who, msg.data.name, msg.data.input, log).then((reply) => port.postMessage({ id: msg.data.id, reply }));
});
