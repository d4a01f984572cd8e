/**
 * Consumes received transactions in the background of a server process: one chunk (one transaction) per turn of
 * the event loop, so requests are served between chunks. kick() after every ingest; idle() resolves when nothing is
 * left to do (tests, shutdown). A store in PostgreSQL consumes in a worker thread instead (ThreadedConsumer): its
 * database round trips never hold up the thread that answers requests.
 */
import type { Worker } from 'node:worker_threads';
import { Consumer, type ConsumeProgress } from '../core/consumer.ts';
import type { Store } from '../core/store.ts';
import { startWorker } from '../core/worker-thread.ts';

/** What the server asks of its background consumer, wherever it runs. */
export interface Background {
  kick(): void;
  idle(): Promise<void>;
  stop(): Promise<void>;
  watchKeys(everyMs?: number): void;
  readonly lastError: string | null;
  onDrained: (() => void) | null;
}

/** Messages from consume-thread.ts. */
export type ConsumeThreadMessage =
  | { type: 'drained'; upTo: number; lastError: string | null }
  | { type: 'log'; line: string }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

/** The background consumer for this store: in this thread on SQLite, in its own worker thread on PostgreSQL. */
export function backgroundFor(store: Store, log: (line: string) => void = () => {}): Background {
  return store.sql.dialect === 'postgres' ? new ThreadedConsumer(store.dir, log) : new BackgroundConsumer(store, log);
}

export class BackgroundConsumer implements Background {
  private running = false;
  private again = false;
  private stopped = false;
  private waiters: (() => void)[] = [];
  lastError: string | null = null;
  lastProgress: ConsumeProgress | null = null;
  /** Called when a drain ends (done, or stopped by an error): the web UI refreshes its counts. */
  onDrained: (() => void) | null = null;

  private keyWatch: NodeJS.Timeout | undefined;
  private seenKeys = -1;

  constructor(private readonly store: Store, private readonly log: (line: string) => void = () => {}) {}

  /**
   * A key set imported while the server runs (`edc-sync keys import` in another process) is seen within `everyMs`:
   * what failed for want of a key is tried again, then the rest is consumed. No restart, no Retry click.
   */
  watchKeys(everyMs = 2000): void {
    this.keyWatch = setInterval(() => {
      if (this.stopped || this.running || !this.store.reloadKeysIfChanged()) return;
      this.kick();
    }, everyMs);
    this.keyWatch.unref();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    setImmediate(() => this.run());
  }

  private run(): void {
    let steps: Generator<ConsumeProgress, unknown, void>;
    try {
      const consumer = new Consumer(this.store);
      this.store.requireKeys();
      if (this.store.keysGeneration !== this.seenKeys) {
        // A new key set (or the first load): retry what failed before; it may decrypt now.
        const first = this.seenKeys === -1;
        this.seenKeys = this.store.keysGeneration;
        if (!first) {
          const r = consumer.retryErrors();
          this.log(`key set changed: retried failed transactions (${r.applied} applied, ${r.errors} still failing)`);
        }
      }
      steps = consumer.steps();
    } catch (e) {
      this.finish(e);
      return;
    }
    const turn = () => {
      if (this.stopped) return this.finish(null);
      try {
        const next = steps.next();
        if (next.done) return this.finish(null);
        this.lastProgress = next.value;
      } catch (e) {
        return this.finish(e);
      }
      setImmediate(turn);
    };
    turn();
  }

  private finish(error: unknown): void {
    if (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.log(`consume: ${this.lastError}`);
    } else {
      this.lastError = null;
    }
    this.running = false;
    if (this.again && !this.stopped) {
      this.kick();
      return;
    }
    for (const w of this.waiters.splice(0)) w();
    this.onDrained?.();
  }

  /** A drain is running or about to. */
  get busy(): boolean {
    return this.running;
  }

  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Finish the current chunk, start no other. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.keyWatch);
    await this.idle();
  }
}

/**
 * The background consumer in a worker thread (consume-thread.ts) with its own connection to the store. kick() numbers
 * each wake-up; idle() waits until the thread reports a drain that began after the last one.
 */
export class ThreadedConsumer implements Background {
  private readonly worker: Worker;
  private kicks = 0;
  private drainedUpTo = 0;
  private waiters: { upTo: number; resolve: () => void }[] = [];
  private stopped: Promise<void> | null = null;
  lastError: string | null = null;
  onDrained: (() => void) | null = null;

  constructor(dataDir: string, private readonly log: (line: string) => void) {
    this.worker = startWorker(import.meta.url, ['./consume-thread.mjs', './consume-thread.ts'], { workerData: { dataDir } });
    this.worker.on('message', (m: ConsumeThreadMessage) => this.onMessage(m));
    this.worker.on('error', (e) => {
      this.lastError = e.message;
      this.log(`consume: ${e.message}`);
      this.release(Number.MAX_SAFE_INTEGER);
    });
    this.worker.unref();
  }

  private onMessage(m: ConsumeThreadMessage): void {
    if (m.type === 'log') this.log(m.line);
    else if (m.type === 'failed') this.lastError = m.message;
    else if (m.type === 'drained') {
      this.lastError = m.lastError;
      this.release(m.upTo);
      this.onDrained?.();
    }
  }

  private release(upTo: number): void {
    this.drainedUpTo = Math.max(this.drainedUpTo, upTo);
    const ready = this.waiters.filter((w) => w.upTo <= this.drainedUpTo);
    this.waiters = this.waiters.filter((w) => w.upTo > this.drainedUpTo);
    for (const w of ready) w.resolve();
    if (this.waiters.length === 0 && !this.stopped) this.worker.unref();
  }

  watchKeys(): void {
    // The thread watches the key file itself (its own store's key cache).
  }

  kick(): void {
    if (this.stopped) return;
    this.worker.postMessage({ type: 'kick', id: ++this.kicks });
  }

  idle(): Promise<void> {
    if (this.drainedUpTo >= this.kicks) return Promise.resolve();
    this.worker.ref(); // someone waits: the thread keeps this process alive until it answers
    return new Promise((resolve) => this.waiters.push({ upTo: this.kicks, resolve }));
  }

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.ref();
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.on('message', (m: ConsumeThreadMessage) => { if (m.type === 'stopped') void this.worker.terminate(); });
      this.worker.postMessage({ type: 'stop' });
    }).then(() => this.release(Number.MAX_SAFE_INTEGER));
    return this.stopped;
  }
}
