/**
 * What every area of handlers shares: the device's store (opened lazily, created by set-up), the caller as an
 * audit actor, one-at-a-time long operations, progress and change events.
 */
import type { CallName } from '../../shared/channels.ts';
import type { AppEvent, CallOutput, ParsedInput, ProgressEvent, UserRole } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';
import { Study } from '../core/domain/study.ts';
import type { Store } from '../core/store.ts';
import type { Actor } from '../core/write-path.ts';

/** Who is calling: a web account, or the desktop app's local user (role null: every permission). */
export interface Principal {
  username: string;
  role: UserRole | null;
}

export type BackendHandlers = { [K in CallName]: (input: ParsedInput<K>, who: Principal) => Promise<CallOutput<K>> };

/** The handlers of one area (device, data entry, …): merged into the one map in backend.ts. */
export type AreaHandlers<K extends CallName> = Pick<BackendHandlers, K>;

export interface BackendOptions {
  dataDir: string;
  host: 'desktop' | 'web';
  emit: (e: AppEvent) => void;
  /** An already open store (the web host shares the server's); otherwise opened here when the folder holds one. */
  store?: Store;
  /** On a server: why its background consumer stopped, if it did (shown on the Consumed batches screen). */
  consumerError?: () => string | null;
}

export interface HandlerContext {
  readonly opts: BackendOptions;
  /** The open store, or null before the device is set up. */
  store(): Store | null;
  setStore(store: Store): void;
  /** The store, or NOT_SET_UP. */
  need(): Store;
  study(): Study;
  actor(who: Principal): Actor;
  /** One run of each long operation at a time: a second press while it runs is refused (BUSY), not queued. */
  exclusive<T>(op: string, fn: () => Promise<T>): Promise<T>;
  /** A progress callback for a long operation, throttled to ~10 events a second (the last one always sent). */
  progress(op: ProgressEvent['op']): (p: { phase?: string; done: number; total: number }) => void;
  changed(what: 'status' | 'batches'): void;
  /** Work to do when the backend closes (e.g. stop an open share). */
  onClose(fn: () => Promise<void>): void;
}

export function createContext(opts: BackendOptions, initial: Store | null): HandlerContext & { closers: (() => Promise<void>)[] } {
  let store = initial;
  const running = new Set<string>();
  const closers: (() => Promise<void>)[] = [];
  const need = (): Store => {
    if (!store) throw new EdcError('NOT_SET_UP');
    return store;
  };
  return {
    opts,
    closers,
    store: () => store,
    setStore: (s) => { store = s; },
    need,
    study: () => new Study(need()),
    actor: (who) => ({ user: who.username }),
    exclusive: async (op, fn) => {
      if (running.has(op)) throw new EdcError('BUSY', op);
      running.add(op);
      try {
        return await fn();
      } finally {
        running.delete(op);
      }
    },
    progress: (op) => {
      let last = 0;
      return (p) => {
        const now = Date.now();
        if (p.done !== p.total && now - last < 100) return;
        last = now;
        opts.emit({ type: 'progress', op, phase: p.phase ?? op, done: p.done, total: p.total });
      };
    },
    changed: (what) => opts.emit({ type: 'changed', what }),
    onClose: (fn) => { closers.push(fn); },
  };
}
