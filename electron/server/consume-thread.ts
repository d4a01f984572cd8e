/**
 * The background consumer of a server whose store is in PostgreSQL, in a worker thread of its own (see
 * ThreadedConsumer in background.ts): its own store connection, its own BackgroundConsumer, woken by the server's
 * kicks. The database round trips of a long consume then wait here, never on the thread that answers requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { Store } from '../core/store.ts';
import { BackgroundConsumer } from './background.ts';
import type { ConsumeThreadMessage } from './background.ts';

const port = parentPort;
if (!port) throw new Error('consume-thread.ts runs as a worker thread');
const { dataDir } = z.object({ dataDir: z.string().min(1) }).parse(workerData);
const send = (m: ConsumeThreadMessage) => port.postMessage(m);
const inbound = z.discriminatedUnion('type', [z.object({ type: z.literal('kick'), id: z.number().int() }), z.object({ type: z.literal('stop') })]);

let store: Store;
try {
  store = Store.open(dataDir);
} catch (e) {
  send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  throw e;
}
const bg = new BackgroundConsumer(store, (line) => send({ type: 'log', line }));
bg.watchKeys();
let kicked = 0;
bg.onDrained = () => send({ type: 'drained', upTo: kicked, lastError: bg.lastError });
port.on('message', (raw: unknown) => {
  const m = inbound.parse(raw);
  if (m.type === 'kick') {
    kicked = Math.max(kicked, m.id);
    bg.kick();
    if (!bg.busy) send({ type: 'drained', upTo: kicked, lastError: bg.lastError }); // stopped: nothing will run
    return;
  }
  void bg.stop().then(() => {
    store.close();
    send({ type: 'stopped' });
    port.close();
  });
});
