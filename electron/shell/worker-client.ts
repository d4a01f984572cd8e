/**
 * Main-process side of the backend worker: calls with ids, replies matched back, events fanned out. If the worker
 * dies, waiting calls get a coded error and the next call starts a new worker (the store is crash-safe).
 */
import { Worker } from 'node:worker_threads';
import type { CallName } from '../../shared/channels.ts';
import type { CallReply } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';

export interface WorkerClientOptions {
  file: string;
  dataDir: string;
  username: string;
  onEvent(event: unknown): void;
  log(line: string): void;
  execArgv?: string[];
}

export class BackendWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: CallReply) => void>();

  constructor(private readonly opts: WorkerClientOptions) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.opts.file, {
      workerData: { dataDir: this.opts.dataDir, username: this.opts.username },
      ...(this.opts.execArgv ? { execArgv: this.opts.execArgv } : {}),
    });
    w.on('message', (m: { id?: number; reply?: CallReply; event?: unknown; log?: string }) => {
      if (m.id !== undefined && m.reply) {
        this.waiting.get(m.id)?.(m.reply);
        this.waiting.delete(m.id);
      } else if (m.event !== undefined) {
        this.opts.onEvent(m.event);
      } else if (m.log) {
        this.opts.log(m.log);
      }
    });
    const fail = (why: string) => {
      this.opts.log(`backend worker stopped: ${why}`);
      this.worker = null;
      const e = new EdcError('INTERNAL', `the background worker stopped (${why}); try again`);
      for (const resolve of this.waiting.values()) resolve({ ok: false, error: { code: e.code, message: e.message } });
      this.waiting.clear();
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => {
      if (this.worker === w) fail(`exit ${code}`);
    });
    this.worker = w;
    return w;
  }

  call(name: CallName, input: unknown): Promise<CallReply> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      w.postMessage({ id, name, input });
    });
  }

  /** Lets the backend close the store (and any share), then ends the thread. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      w.on('message', (m: { closed?: boolean }) => {
        if (m.closed) {
          clearTimeout(t);
          resolve();
        }
      });
      w.postMessage('close');
    });
    await w.terminate();
  }
}
