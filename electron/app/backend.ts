/**
 * The app's backend: one handler per call of the contract (shared/contract.ts), over one device's data folder.
 * Each area lives in handlers/ and they merge into the one map here; the type makes a missing call a compile error.
 * Plain Node: the Electron shell runs it in a worker thread, the web host in the server process, the tests directly.
 * Long work reports progress through `emit`; nothing here knows which transport carries it.
 */
import { Store } from '../core/store.ts';
import { createContext, type BackendHandlers, type BackendOptions } from './context.ts';
import { batchHandlers } from './handlers/batches.ts';
import { deviceHandlers } from './handlers/device.ts';
import { devicesHandlers } from './handlers/devices.ts';
import { entryHandlers } from './handlers/entry.ts';
import { fileHandlers } from './handlers/files.ts';
import { middlemanHandlers } from './handlers/middleman.ts';
import { specimenHandlers } from './handlers/specimens.ts';
import { transactionHandlers } from './handlers/transactions.ts';

export type { BackendHandlers, BackendOptions, Principal } from './context.ts';
export { localAddresses } from './handlers/device.ts';

export interface Backend {
  handlers: BackendHandlers;
  /** The open store, or null before the device is set up. */
  store(): Store | null;
  close(): Promise<void>;
}

export function createBackend(opts: BackendOptions): Backend {
  const initial = opts.store ?? (Store.exists(opts.dataDir) ? Store.open(opts.dataDir) : null);
  const ctx = createContext(opts, initial);
  const handlers: BackendHandlers = {
    ...deviceHandlers(ctx),
    ...entryHandlers(ctx),
    ...transactionHandlers(ctx),
    ...middlemanHandlers(ctx),
    ...specimenHandlers(ctx),
    ...fileHandlers(ctx),
    ...batchHandlers(ctx),
    ...devicesHandlers(ctx),
  };
  return {
    handlers,
    store: ctx.store,
    close: async () => {
      for (const fn of ctx.closers) await fn();
      if (!opts.store) ctx.store()?.close();
    },
  };
}
