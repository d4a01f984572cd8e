/**
 * `npm run bench -- crf [N]`: the realistic workload (scripts/bench-workload.ts: ~1 KB follow-up CRFs, N creates then
 * N/5 updates of 4 fields) against its floor, every ratio from the same run.
 *
 *  - floor:   the same records as plaintext JSON, streamed as NDJSON over one loopback HTTP request into a table with
 *             a primary key and the natural-key index, 1,000 rows per transaction, newer revision wins
 *             (scripts/bench-floor-server.ts; WAL + synchronous=FULL like a site server).
 *  - keyed:   the same upserts in-process into such a table (what storing the rows costs before sync adds anything).
 *  - write:   the N + N/5 changes through the write path (row + history + encrypted outgoing transaction), 1,000 per
 *             SQLite transaction; write/keyed is the write path's ratio.
 *  - push:    `edc-sync push` (field) to `edc-sync server` (site) until the site applied everything; meanwhile the
 *             site's /api/v1/health and web UI page are timed every 50 ms.
 *  - mm:      `share` (field), `pull` (middleman, applies), `push` (middleman forwards) until the site applied all.
 *  - files:   `export` + `send` (real sshd) on the field, `import --dir` (ingest + consume) on central.
 * Every command runs as its own process, so each process's peak RSS is its own (/usr/bin/time). Rates are
 * transactions (= records) per second, wall time of the processes including their start-up.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../electron/core/crypto/keyset.ts';
import { MODELS } from '../electron/core/domain/registry.ts';
import { Study } from '../electron/core/domain/study.ts';
import { uuidv7 } from '../electron/core/ids.ts';
import { Store } from '../electron/core/store.ts';
import { BIN, startServer, type ServerProc } from '../electron/core/testing/processes.ts';
import { startSshd } from '../electron/core/testing/sshd.ts';
import { issuePairingCode } from '../electron/server/auth.ts';
import { pair } from '../electron/sync/server-link.ts';
import { workload, type Workload } from './bench-workload.ts';

const BATCH = 1000;
const actor = { user: 'bench' };
const model = MODELS.get('edc.follow_up')!;
const cols = model.columns.map((c) => c.sql);

export interface CrfResult {
  n: number;
  total: number;
  floor: number;
  keyed: number;
  write: number;
  push: number;
  middleman: number;
  files: number;
  /** Latency (ms) of the site's health endpoint and web UI page while it consumed the push: p50, p99, max, count. */
  health: Latency;
  web: Latency;
  rssMb: Record<string, number>;
  /** Bytes of the records' own JSON (the floor's stream) and the push's request bodies, per transaction. */
  jsonBytesPerTx: number;
}
interface Latency { p50: number; p99: number; max: number; count: number }

const secsSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;
const note = (s: string) => process.stderr.write(`bench crf: ${s}\n`);

/** The plaintext row each change leaves (creates: revision 1; an update: its create with the patch, next revision). */
function* floorRows(w: Workload): Generator<Record<string, unknown>> {
  const ids: string[] = [];
  const revisions = new Uint32Array(w.creates);
  const now = '2026-06-01T10:00:00.000Z';
  const row = (i: number, extra: Record<string, unknown>, revision: number) => {
    const r: Record<string, unknown> = { id: ids[i], created: now, modified: now, user_created: 'bench', user_modified: 'bench', hostname_created: 'bench', hostname_modified: 'bench', device_id: 'ra-01', revision };
    for (const [js, v] of Object.entries({ ...w.create(i), ...extra })) r[model.byJs.get(js)!.sql] = model.byJs.get(js)!.toDriver(v);
    for (const c of cols) if (!(c in r)) r[c] = null;
    return r;
  };
  for (let i = 0; i < w.creates; i++) {
    ids.push(uuidv7());
    revisions[i] = 1;
    yield row(i, {}, 1);
  }
  for (let j = 0; j < w.updates; j++) {
    const u = w.update(j);
    revisions[u.index] = revisions[u.index]! + 1;
    yield row(u.index, u.patch, revisions[u.index]!);
  }
}

async function floorRate(w: Workload, root: string): Promise<{ rate: number; bytesPerRow: number }> {
  const self = fileURLToPath(new URL('./bench-floor-server.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', self, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => proc.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url)));
  const rowsIter = floorRows(w);
  let bytes = 0;
  const t = process.hrtime.bigint();
  const rows = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${url}/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve((JSON.parse(body) as { rows: number }).rows));
    });
    req.on('error', reject);
    const pump = () => {
      for (;;) {
        const lines: string[] = [];
        for (let k = 0; k < BATCH; k++) {
          const r = rowsIter.next();
          if (r.done) break;
          lines.push(JSON.stringify(r.value));
        }
        if (lines.length === 0) {
          req.end();
          return;
        }
        const chunk = lines.join('\n') + '\n';
        bytes += Buffer.byteLength(chunk);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  const secs = secsSince(t);
  proc.kill('SIGTERM');
  if (rows !== w.creates + w.updates) throw new Error(`floor stored ${rows} rows`);
  return { rate: rows / secs, bytesPerRow: bytes / rows };
}

function keyedRate(w: Workload, dir: string): number {
  const db = new Database(path.join(dir, 'keyed.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // as the field store the write path writes to
  db.exec(`CREATE TABLE keyed (${cols.map((c) => `"${c}"${c === 'id' ? ' TEXT PRIMARY KEY' : ''}`).join(', ')});
    CREATE UNIQUE INDEX keyed_nk ON keyed (${model.naturalKeySql.map((c) => `"${c}"`).join(', ')})`);
  const upsert = db.prepare(`INSERT INTO keyed (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})
    ON CONFLICT(id) DO UPDATE SET ${cols.filter((c) => c !== 'id').map((c) => `"${c}" = excluded."${c}"`).join(', ')} WHERE excluded.revision > keyed.revision`);
  const it = floorRows(w);
  const t = process.hrtime.bigint();
  let done = false;
  while (!done) {
    db.transaction(() => {
      for (let k = 0; k < BATCH; k++) {
        const r = it.next();
        if (r.done) {
          done = true;
          return;
        }
        upsert.run(r.value);
      }
    })();
  }
  const secs = secsSince(t);
  db.close();
  return (w.creates + w.updates) / secs;
}

function writeRate(w: Workload, field: Store): number {
  const study = new Study(field);
  const ids: string[] = [];
  const t = process.hrtime.bigint();
  for (let b = 0; b < w.creates; b += BATCH) {
    study.write.batch(() => {
      for (let i = b; i < Math.min(w.creates, b + BATCH); i++) ids.push(String(study.write.insert('edc.follow_up', w.create(i), actor).id));
    });
  }
  for (let b = 0; b < w.updates; b += BATCH) {
    study.write.batch(() => {
      for (let j = b; j < Math.min(w.updates, b + BATCH); j++) {
        const u = w.update(j);
        study.write.update('edc.follow_up', ids[u.index]!, u.patch, actor);
      }
    });
  }
  return (w.creates + w.updates) / secsSince(t);
}

/** Runs the CLI as its own process; resolves with its peak RSS (MB) and what it printed on stdout. */
async function cli(args: string[], rssFile: string): Promise<{ rssMb: number; out: string }> {
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`edc-sync ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`);
  return { rssMb: Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024, out };
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function siteServer(root: string, name: string, keys: KeySet): Promise<{ dir: string; server: ServerProc }> {
  const dir = path.join(root, name);
  const site = Store.init(dir, 'site', name, { hostname: 'bench' });
  writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), keys);
  site.close();
  return { dir, server: await startServer(dir) };
}

async function pairDir(dir: string, siteDir: string, url: string): Promise<void> {
  const s = Store.open(dir);
  const admin = Store.open(siteDir);
  const { code } = issuePairingCode(admin, { deviceId: s.deviceId, role: s.role });
  admin.close();
  try {
    await pair(s, url, code);
  } finally {
    s.close();
  }
}

/** Waits until the site applied every transaction of `producer` up to `seq` and none is in error. */
async function drained(siteDir: string, producer: string, seq: number): Promise<void> {
  const db = new Database(path.join(siteDir, 'edc-sync.db'), { readonly: true });
  const q = db.prepare('SELECT applied_seq FROM producer_cursor WHERE producer = ?');
  try {
    for (;;) {
      const row = q.get(producer) as { applied_seq: number } | undefined;
      if ((row?.applied_seq ?? 0) >= seq) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const bad = db.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE producer = ? AND (is_error = 1 OR is_conflict = 1 OR is_consumed = 0)').get(producer) as { n: number };
    if (bad.n) throw new Error(`${bad.n} transactions of ${producer} not applied cleanly at ${siteDir}`);
  } finally {
    db.close();
  }
}

/** Times GET url every 50 ms until stopped. */
function probe(url: string): { stop(): Promise<Latency> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = process.hrtime.bigint();
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
      } catch { /* counted as its time */ }
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const s = [...samples].sort((a, b) => a - b);
      const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
      return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN, count: s.length };
    },
  };
}

async function crfChild(n: number): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'edc-bench-crf-'));
  const sshd = await startSshd();
  try {
    const w = workload(n);
    const total = w.creates + w.updates;
    const keys = KeySet.generate();
    const floor = await floorRate(w, root);
    note(`floor ${Math.round(floor.rate)}/s`);
    const fieldDir = path.join(root, 'field');
    const field = Store.init(fieldDir, 'field', 'ra-01', { hostname: 'bench' });
    writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), keys);
    const keyed = keyedRate(w, root);
    const write = writeRate(w, field);
    note(`keyed ${Math.round(keyed)}/s, write path ${Math.round(write)}/s`);
    field.close();
    // Two more copies of the field store, so each channel starts from the same N + N/5 pending transactions.
    for (const copy of ['field-mm', 'field-files']) cpSync(fieldDir, path.join(root, copy), { recursive: true });
    const rss: Record<string, number> = {};
    const rssFile = path.join(root, 'rss');

    // field → site: push, and the server's background consume until everything is applied; probe the server meanwhile.
    const a = await siteServer(root, 'site-a', keys);
    await pairDir(fieldDir, a.dir, a.server.url);
    const health = probe(`${a.server.url}/api/v1/health`);
    const web = probe(`${a.server.url}/`);
    let t = process.hrtime.bigint();
    const pushed = await cli(['--data', fieldDir, 'push', '--json'], rssFile);
    rss.push = pushed.rssMb;
    await drained(a.dir, 'ra-01', total);
    const push = total / secsSince(t);
    const healthLatency = await health.stop();
    const webLatency = await web.stop();
    rss.serverPush = peakRssMb(a.server.child.pid!);
    const pushBytes = (JSON.parse(pushed.out) as { bytes: number }).bytes;
    await a.server.kill('SIGTERM');
    note(`push + consume ${Math.round(push)}/s`);

    // field → middleman (pull, apply) → site (forward, consume).
    const b = await siteServer(root, 'site-b', keys);
    const mmDir = path.join(root, 'mm');
    const mm = Store.init(mmDir, 'middleman', 'mm-01', { hostname: 'bench' });
    writeKeySetFile(path.join(mm.keyDir, KEYSET_FILE), keys);
    mm.close();
    await pairDir(mmDir, b.dir, b.server.url);
    await pairDir(path.join(root, 'field-mm'), b.dir, b.server.url); // the site takes forwarded data only from laptops it knows
    note('middleman paired');
    const shareRss = path.join(root, 'rss-share');
    const share = spawn('/usr/bin/time', ['-f', '%M', '-o', shareRss, process.execPath, BIN, '--data', path.join(root, 'field-mm'), 'share', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const shareExit = new Promise((r) => share.once('exit', r));
    let shareErr = '';
    share.stderr.on('data', (d: Buffer) => { shareErr += d.toString(); });
    const offer = await new Promise<{ url: string; code: string }>((resolve, reject) => {
      share.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { url: string; code: string }));
      share.once('exit', (code) => reject(new Error(`share exited ${code}: ${shareErr}`)));
    });
    t = process.hrtime.bigint();
    rss.pull = (await cli(['--data', mmDir, 'pull', '--from', offer.url, '--code', offer.code, '--json'], rssFile)).rssMb;
    rss.forward = (await cli(['--data', mmDir, 'push', '--json'], rssFile)).rssMb;
    await drained(b.dir, 'ra-01', total);
    const middleman = total / secsSince(t);
    rss.serverForward = peakRssMb(b.server.child.pid!);
    await shareExit; // the share closes itself once everything was acknowledged
    rss.share = Number(readFileSync(shareRss, 'utf8').trim().split('\n').pop()) / 1024;
    await b.server.kill('SIGTERM');
    note(`pull + forward + consume ${Math.round(middleman)}/s`);

    // field → files → central: export, SFTP send, import (ingest + consume).
    const filesDir = path.join(root, 'field-files');
    const remote = path.join(sshd.root, 'incoming');
    mkdirSync(remote);
    const ff = Store.open(filesDir);
    ff.saveSettings({ ...ff.settings, sftpHost: sshd.host, sftpPort: sshd.port, sftpUser: sshd.user, sftpPrivateKeyPath: sshd.clientKey, sftpHostKeyFingerprint: sshd.hostFingerprint, sftpTransactionDir: remote });
    ff.close();
    const centralDir = path.join(root, 'central');
    const central = Store.init(centralDir, 'central', 'central-01', { hostname: 'bench' });
    writeKeySetFile(path.join(central.keyDir, KEYSET_FILE), keys);
    central.close();
    t = process.hrtime.bigint();
    rss.export = (await cli(['--data', filesDir, 'export', '--json'], rssFile)).rssMb;
    rss.send = (await cli(['--data', filesDir, 'send', '--json'], rssFile)).rssMb;
    rss.import = (await cli(['--data', centralDir, 'import', '--dir', remote, '--json'], rssFile)).rssMb;
    const files = total / secsSince(t);
    const c = new Database(path.join(centralDir, 'edc-sync.db'), { readonly: true });
    const applied = (c.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE is_consumed = 1 AND is_error = 0 AND is_conflict = 0').get() as { n: number }).n;
    c.close();
    if (applied !== total) throw new Error(`central applied ${applied} of ${total}`);

    const result: CrfResult = { n, total, floor: floor.rate, keyed, write, push, middleman, files, health: healthLatency, web: webLatency, rssMb: { bench: process.resourceUsage().maxRSS / 1024, ...rss }, jsonBytesPerTx: floor.bytesPerRow };
    process.stdout.write(JSON.stringify({ ...result, pushBytesPerTx: pushBytes / total }));
  } finally {
    await sshd.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

export function crf(sizes: number[]): void {
  const self = fileURLToPath(import.meta.url);
  const f = (x: number) => Math.round(x).toLocaleString('en-US').padStart(8);
  const r2 = (x: number) => x.toFixed(2).padStart(5);
  console.log('crf: ~1 KB follow-up CRFs, N creates + N/5 updates (4 fields), against the floor in the same run (transactions/s)');
  console.log('floor = plaintext NDJSON over one loopback HTTP request, upserted (PK + natural-key index, 1,000/tx, newer revision wins)');
  console.log('        N    floor/s  keyed/s  write/s w/keyed   push+consume/s ratio  pull+fwd+consume/s ratio  files/s ratio  health p50/p99/max ms  web p50/p99/max ms');
  for (const n of sizes) {
    const r = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, 'crf-child', String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })) as CrfResult & { pushBytesPerTx: number };
    const lat = (l: Latency) => `${l.p50.toFixed(0)}/${l.p99.toFixed(0)}/${l.max.toFixed(0)} (${l.count})`;
    console.log(`${String(n).padStart(9)}  ${f(r.floor)} ${f(r.keyed)} ${f(r.write)}   ${r2(r.write / r.keyed)}   ${f(r.push)}       ${r2(r.push / r.floor)}  ${f(r.middleman)}           ${r2(r.middleman / r.floor)}  ${f(r.files)} ${r2(r.files / r.floor)}  ${lat(r.health).padStart(20)}  ${lat(r.web).padStart(18)}`);
    console.log(`           peak RSS MB: ${Object.entries(r.rssMb).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    console.log(`           bytes per transaction: records' JSON ${r.jsonBytesPerTx.toFixed(0)}, push request bodies ${r.pushBytesPerTx.toFixed(0)}`);
    console.log(`           targets: push ≥ 0.6 ${r.push / r.floor >= 0.6 ? 'met' : 'NOT met'}; pull+forward ≥ 0.5 ${r.middleman / r.floor >= 0.5 ? 'met' : 'NOT met'}; files ≥ 0.5 ${r.files / r.floor >= 0.5 ? 'met' : 'NOT met'}; write ≥ 0.33 ${r.write / r.keyed >= 1 / 3 ? 'met' : 'NOT met'}; health and web p99 < 100 ms ${Math.max(r.health.p99, r.web.p99) < 100 ? 'met' : 'NOT met'}`);
  }
}

if (process.argv[2] === 'crf-child') await crfChild(Number(process.argv[3]));
