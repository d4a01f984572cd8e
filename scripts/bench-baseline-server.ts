/**
 * The REST benchmark's baseline, in its own process like a real server: one HTTP endpoint that takes an NDJSON
 * stream of envelopes and inserts them into a bare SQLite table (no index, no validation) in 1,000-row
 * transactions. Prints {"url": …} once listening; answers {"rows": N} when the stream ends.
 */
import Database from 'better-sqlite3';
import { createServer } from 'node:http';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench-baseline-server DIR');
const db = new Database(path.join(dir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS bare (id, producer, producer_seq, tx_name, tx_pk, action, timestamp, schema_version, key_id, tx)');
const insert = db.prepare('INSERT INTO bare VALUES (?,?,?,?,?,?,?,?,?,?)');
type Env = { id: string; producer: string; producerSeq: number; txName: string; txPk: string; action: string; timestamp: string; schemaVersion: number; keyId: string; tx: string };
const flush = db.transaction((rows: Env[]) => {
  for (const e of rows) insert.run(e.id, e.producer, e.producerSeq, e.txName, e.txPk, e.action, e.timestamp, e.schemaVersion, e.keyId, e.tx);
});
const server = createServer((req, res) => {
  let rest = '';
  let batch: Env[] = [];
  let rows = 0;
  req.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      batch.push(JSON.parse(line) as Env);
      if (batch.length === 1000) {
        flush(batch);
        rows += batch.length;
        batch = [];
      }
    }
  });
  req.on('end', () => {
    if (rest) batch.push(JSON.parse(rest) as Env);
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
