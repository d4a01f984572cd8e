/**
 * Consumes received transactions in the background of a server process: one chunk (one SQLite transaction) per
 * turn of the event loop, so requests are served between chunks. kick() after every ingest; idle() resolves when
 * nothing is left to do (tests, shutdown).
 */
import { Consumer, type ConsumeProgress } from '../core/consumer.ts';
import type { Store } from '../core/store.ts';

export class BackgroundConsumer {
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
