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

  constructor(private readonly store: Store, private readonly log: (line: string) => void = () => {}) {}

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
      steps = new Consumer(this.store).steps();
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
    await this.idle();
  }
}
