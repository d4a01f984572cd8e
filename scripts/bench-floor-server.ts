/**
 * The floor of `npm run bench -- crf`, in its own process like a real server: one HTTP endpoint that takes an NDJSON
 * stream of plaintext follow-up records and upserts them into a table with a primary key and the natural-key index,
 * 1,000 rows per transaction, the newer revision winning. The same durability as a site server (WAL,
 * synchronous=FULL). No encryption, no history, no ordering. Prints {"url": …} once listening; answers {"rows": N}
 * when the stream ends.
 */
import Database from 'better-sqlite3';
import { createServer } from 'node:http';
import path from 'node:path';
import { MODELS } from '../electron/core/domain/registry.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench-floor-server DIR');
const model = MODELS.get('edc.follow_up')!;
const cols = model.columns.map((c) => c.sql);
const db = new Database(path.join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS floor (${cols.map((c) => `"${c}"${c === 'id' ? ' TEXT PRIMARY KEY' : ''}`).join(', ')});
  CREATE UNIQUE INDEX IF NOT EXISTS floor_nk ON floor (${model.naturalKeySql.map((c) => `"${c}"`).join(', ')})`);
const upsert = db.prepare(`INSERT INTO floor (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})
  ON CONFLICT(id) DO UPDATE SET ${cols.filter((c) => c !== 'id').map((c) => `"${c}" = excluded."${c}"`).join(', ')} WHERE excluded.revision > floor.revision`);
const flush = db.transaction((rows: Record<string, unknown>[]) => {
  for (const r of rows) upsert.run(r);
});
const server = createServer((req, res) => {
  let rest = '';
  let batch: Record<string, unknown>[] = [];
  let rows = 0;
  req.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      batch.push(JSON.parse(line) as Record<string, unknown>);
      if (batch.length === 1000) {
        flush(batch);
        rows += batch.length;
        batch = [];
      }
    }
  });
  req.on('end', () => {
    if (rest) batch.push(JSON.parse(rest) as Record<string, unknown>);
    flush(batch);
    rows += batch.length;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ rows }));
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => { db.close(); process.exit(0); }));
