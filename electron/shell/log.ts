/** The desktop app's log: pino JSON lines into a rotating file (5 MB × 5, older ones gzip-compressed). */
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { createStream } from 'rotating-file-stream';

export const LOG_FILE = 'edc-sync.log';

export function createLogger(dir: string, opts: { size?: string; maxFiles?: number } = {}): Logger & { flushAndClose(): Promise<void> } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stream = createStream(LOG_FILE, { path: dir, size: opts.size ?? '5M', maxFiles: opts.maxFiles ?? 5, compress: 'gzip', mode: 0o600 });
  const logger = pino({ level: process.env.EDC_SYNC_LOG_LEVEL ?? 'info', base: { app: 'edc-sync' } }, stream);
  return Object.assign(logger, {
    flushAndClose: () => new Promise<void>((resolve) => {
      stream.end(() => resolve());
    }),
  });
}
