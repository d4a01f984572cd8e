/**
 * `npm run bench -- crf | core | rest | files`: throughput against what SQLite (and HTTP) themselves do on this machine.
 *
 * core:
 *
 * For each N (10k, 100k) in a fresh child process (so peak RSS is per N):
 *  - plain:   N prepared INSERTs of the same rows into a bare table (no indexes, triggers, history or outbox),
 *             in 1,000-row transactions: the baseline.
 *  - write:   N inserts through the write path (row + audit history + encrypted outgoing transaction), same batching.
 *  - ingest:  a site store copies the N envelopes from the field store (copy --from: read, validate, insert).
 *  - consume: the site applies them (decrypt, validate, order, parent check, upsert, history, mark consumed).
 * Prints rates, the ratios to the baseline (targets: write ≥ 1/3, consume ≥ 1/4), and peak RSS.
 * Timings are medians of 3 runs of each phase for N ≤ 10k, one run at 100k.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requisitionIdentifier } from '../shared/identifiers.ts';
import { Consumer } from '../electron/core/consumer.ts';
import { copyFrom } from '../electron/core/copy.ts';
import { pairAt } from '../electron/core/testing/fixtures.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../electron/core/crypto/keyset.ts';
import { Study } from '../electron/core/domain/study.ts';
import { MODELS } from '../electron/core/domain/registry.ts';
import Database from 'better-sqlite3';
import { Store } from '../electron/core/store.ts';
import { toWire, type EnvelopeRow } from '../electron/core/envelope.ts';
import { startServer, waitForStore, type ServerProc } from '../electron/core/testing/processes.ts';
import { issuePairingCode } from '../electron/server/auth.ts';
import { pull } from '../electron/sync/pull.ts';
import { push } from '../electron/sync/push.ts';
import { pair } from '../electron/sync/server-link.ts';
import { startShare } from '../electron/sync/share.ts';
import { startSshd } from '../electron/core/testing/sshd.ts';
import { exportBatches } from '../electron/files/export.ts';
import { importBatches } from '../electron/files/import.ts';
import { send } from '../electron/files/send.ts';
import { uuidv7 } from '../electron/core/ids.ts';
import { crf } from './bench-crf.ts';

const BATCH = 1000;
const ra = { user: 'bench' };

interface CoreResult { n: number; plain: number; keyed: number; write: number; ingest: number; consume: number; rssMb: number }

/** Each size runs in a fresh child process, so its peak RSS is its own; the child prints one JSON result. */
function runChild<T>(kind: string, n: number): T {
  const self = fileURLToPath(import.meta.url);
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, `${kind}-child`, String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as T;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function coreOnce(n: number, root: string, keys: KeySet): Omit<CoreResult, 'rssMb'> {
  const field = Store.init(path.join(root, `field-${Math.random().toString(36).slice(2)}`), 'field', 'ra-01', { hostname: 'bench' });
  writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), keys);
  const study = new Study(field);
  const subject = study.registerSubject({ firstName: 'Bench', lastName: 'Mark', dob: '1990-01-01', identityNumber: '100000001', phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
  const visit = study.write.insert('edc.visit', { subjectId: String(subject.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
  const input = (i: number) => ({
    visitId: String(visit.id), requisitionIdentifier: requisitionIdentifier('ra-01', i + 1), panel: 'Viral load', specimenType: 'plasma',
    drawnDatetime: '2026-01-05T08:20:00.000Z', itemCount: 1 + (i % 3),
  });

  // Baseline: the same rows (all columns of specimen_requisition) into a bare table, prepared, same batching.
  const model = MODELS.get('edc.specimen_requisition')!;
  field.sqlite.exec(`CREATE TABLE bare (${model.columns.map((c) => `"${c.sql}"`).join(', ')})`);
  const bare = field.sqlite.prepare(`INSERT INTO bare VALUES (${model.columns.map(() => '?').join(', ')})`);
  // Second baseline: the model's own table definition (primary key, natural-key unique index), no triggers,
  // history or outbox: what storing the row costs in any app, before sync adds anything.
  field.sqlite.exec(`CREATE TABLE keyed (${model.columns.map((c) => `"${c.sql}"${c.sql === 'id' ? ' TEXT PRIMARY KEY' : ''}`).join(', ')});
    CREATE UNIQUE INDEX keyed_nk ON keyed (${model.naturalKeySql.map((c) => `"${c}"`).join(', ')})`);
  const keyed = field.sqlite.prepare(`INSERT INTO keyed VALUES (${model.columns.map(() => '?').join(', ')})`);
  const plainInto = (stmt: typeof bare) => time(() => {
    for (let b = 0; b < n; b += BATCH) {
      field.sqlite.transaction(() => {
        for (let i = b; i < Math.min(n, b + BATCH); i++) {
          const now = new Date().toISOString();
          const v = input(i);
          stmt.run(uuidv7(), now, now, ra.user, ra.user, 'bench', 'bench', 'ra-01', 1, v.visitId, v.requisitionIdentifier, v.panel, v.specimenType, v.drawnDatetime, v.itemCount);
        }
      })();
    }
  });
  const plainSecs = plainInto(bare);
  const keyedSecs = plainInto(keyed);

  const writeSecs = time(() => {
    for (let b = 0; b < n; b += BATCH) {
      study.write.batch(() => {
        for (let i = b; i < Math.min(n, b + BATCH); i++) study.write.insert('edc.specimen_requisition', input(i), ra);
      });
    }
  });

  const site = Store.init(path.join(root, `site-${Math.random().toString(36).slice(2)}`), 'site', 'site-01', { hostname: 'bench' });
  writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), keys);
  pairAt(site, field); // a site copies only from devices paired with it
  const consumer = new Consumer(site);
  const ingestSecs = time(() => { copyFrom(site, field.dir); });
  let applied = 0;
  const consumeSecs = time(() => { applied = consumer.consume().applied; });
  if (applied !== n + 2) throw new Error(`consumed ${applied}, expected ${n + 2}`);
  field.close();
  site.close();
  return { n, plain: n / plainSecs, keyed: n / keyedSecs, write: n / writeSecs, ingest: (n + 2) / ingestSecs, consume: (n + 2) / consumeSecs };
}

function child(n: number): void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'edc-bench-'));
  try {
    const keys = KeySet.generate();
    const runs = Array.from({ length: n <= 10_000 ? 3 : 1 }, () => coreOnce(n, root, keys));
    const result: CoreResult = {
      n, plain: median(runs.map((r) => r.plain)), keyed: median(runs.map((r) => r.keyed)), write: median(runs.map((r) => r.write)), ingest: median(runs.map((r) => r.ingest)),
      consume: median(runs.map((r) => r.consume)), rssMb: process.resourceUsage().maxRSS / 1024,
    };
    process.stdout.write(JSON.stringify(result));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function core(sizes: number[]): void {
  const f = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
  console.log('sync core: write path and consume vs a plain prepared insert of the same rows (1,000-row transactions)');
  console.log('plain = bare table (no key, no index); keyed = the model\'s table definition (primary key + natural-key index)');
  console.log('        N     plain/s     keyed/s     write/s  write/plain  write/keyed    ingest/s   consume/s  consume/plain  consume/keyed  peak RSS');
  const results: CoreResult[] = [];
  for (const n of sizes) {
    const r = runChild<CoreResult>('core', n);
    results.push(r);
    const ratio = (x: number) => x.toFixed(2).padStart(5);
    console.log(`${String(n).padStart(9)}  ${f(r.plain)}   ${f(r.keyed)}   ${f(r.write)}        ${ratio(r.write / r.plain)}        ${ratio(r.write / r.keyed)}   ${f(r.ingest)}   ${f(r.consume)}          ${ratio(r.consume / r.plain)}          ${ratio(r.consume / r.keyed)}   ${r.rssMb.toFixed(0).padStart(4)} MB`);
  }
  const last = results[results.length - 1]!;
  const first = results[0]!;
  console.log(`against the keyed baseline at N=${last.n}: write/keyed ${(last.write / last.keyed).toFixed(2)}, consume/keyed ${(last.consume / last.keyed).toFixed(2)}`);
  console.log(`targets at N=${last.n}: write/plain ${(last.write / last.plain).toFixed(2)} (≥ 0.33) ${last.write / last.plain >= 1 / 3 ? 'met' : 'NOT met'}; `
    + `consume/plain ${(last.consume / last.plain).toFixed(2)} (≥ 0.25) ${last.consume / last.plain >= 0.25 ? 'met' : 'NOT met'}; `
    + `peak RSS ${first.rssMb.toFixed(0)} → ${last.rssMb.toFixed(0)} MB for ${last.n / first.n}× the data`);
}

// ------------------------------------------------------------------------------------------------ rest

interface RestResult {
  n: number;
  baseline: number;
  push: number;
  /** The push alone (acknowledged), before the server finished consuming. */
  pushOnly: number;
  middleman: number;
  /** The middleman's pull alone, including applying on the middleman. */
  pullOnly: number;
  clientRssMb: number;
  serverRssMb: number;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A field store with n changes through the write path (not timed). */
function fieldWith(root: string, n: number, keys: KeySet): Store {
  const field = Store.init(path.join(root, 'field'), 'field', 'ra-01', { hostname: 'bench' });
  writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), keys);
  const study = new Study(field);
  const subject = study.registerSubject({ firstName: 'Bench', lastName: 'Mark', dob: '1990-01-01', identityNumber: '100000001', phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
  const visit = study.write.insert('edc.visit', { subjectId: String(subject.id), visitCode: '1000', visitCodeSequence: 0, visitDatetime: '2026-01-05T08:10:00.000Z', reason: 'scheduled' }, ra);
  for (let b = 0; b < n - 2; b += BATCH) {
    study.write.batch(() => {
      for (let i = b; i < Math.min(n - 2, b + BATCH); i++) {
        study.write.insert('edc.specimen_requisition', { visitId: String(visit.id), requisitionIdentifier: requisitionIdentifier('ra-01', i + 1), panel: 'Viral load', specimenType: 'plasma', drawnDatetime: '2026-01-05T08:20:00.000Z', itemCount: 1 }, ra);
      }
    });
  }
  return field;
}

/** The same serialized envelopes, streamed as NDJSON over one loopback request into a bare table. */
async function baselineRate(field: Store, root: string): Promise<number> {
  const self = fileURLToPath(new URL('./bench-baseline-server.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', self, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => proc.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url)));
  const page = field.sql.prepare('SELECT * FROM outgoing_transaction WHERE producer = ? AND producer_seq > ? ORDER BY producer_seq LIMIT 1000');
  const t = process.hrtime.bigint();
  const rows = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${url}/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve((JSON.parse(body) as { rows: number }).rows));
    });
    req.on('error', reject);
    let after = 0;
    const pump = () => {
      for (;;) {
        const list = page.all(field.deviceId, after) as EnvelopeRow[];
        if (list.length === 0) {
          req.end();
          return;
        }
        after = list[list.length - 1]!.producer_seq;
        if (!req.write(list.map((r) => JSON.stringify(toWire(r))).join('\n') + '\n')) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  proc.kill('SIGTERM');
  return rows / secs;
}

async function siteServer(root: string, name: string, keys: KeySet): Promise<{ dir: string; server: ServerProc }> {
  const site = Store.init(path.join(root, name), 'site', name, { hostname: 'bench' });
  writeKeySetFile(path.join(site.keyDir, KEYSET_FILE), keys);
  site.close();
  return { dir: path.join(root, name), server: await startServer(path.join(root, name)) };
}

/** Waits until the site applied every transaction of `producer` up to `seq`: one read-only connection, a cheap poll. */
async function drained(siteDir: string, producer: string, seq: number): Promise<void> {
  const db = new Database(path.join(siteDir, 'edc-sync.db'), { readonly: true });
  const q = db.prepare('SELECT applied_seq FROM producer_cursor WHERE producer = ?');
  try {
    for (;;) {
      const row = q.get(producer) as { applied_seq: number } | undefined;
      if ((row?.applied_seq ?? 0) >= seq) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    db.close();
  }
}

async function pairStore(store: Store, siteDir: string, url: string): Promise<void> {
  const admin = Store.open(siteDir);
  const { code } = issuePairingCode(admin, { deviceId: store.deviceId, role: store.role });
  admin.close();
  await pair(store, url, code);
}

async function restChild(n: number): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'edc-bench-rest-'));
  try {
    const keys = KeySet.generate();
    const field = fieldWith(root, n, keys);
    const baseline = await baselineRate(field, root);

    // field → site: push, and the server's background consume, until every transaction is applied.
    const a = await siteServer(root, 'site-a', keys);
    await pairStore(field, a.dir, a.server.url);
    let t = process.hrtime.bigint();
    await push(field);
    const pushSecs = Number(process.hrtime.bigint() - t) / 1e9;
    await drained(a.dir, 'ra-01', n);
    const pushRate = n / (Number(process.hrtime.bigint() - t) / 1e9);
    await waitForStore(a.dir, (s) => s.incoming.consumed === n && s.incoming.error === 0, 60_000); // and nothing went wrong
    let serverRss = peakRssMb(a.server.child.pid!);
    await a.server.kill('SIGTERM');

    // field → middleman (pull, apply) → site (forward, consume).
    const b = await siteServer(root, 'site-b', keys);
    const mm = Store.init(path.join(root, 'mm'), 'middleman', 'mm-01', { hostname: 'bench' });
    writeKeySetFile(path.join(mm.keyDir, KEYSET_FILE), keys);
    await pairStore(mm, b.dir, b.server.url);
    const share = await startShare(field, { host: '127.0.0.1', port: 0 });
    t = process.hrtime.bigint();
    await pull(mm, share.url, share.code);
    const pullSecs = Number(process.hrtime.bigint() - t) / 1e9;
    await push(mm);
    await drained(b.dir, 'ra-01', n);
    const middlemanRate = n / (Number(process.hrtime.bigint() - t) / 1e9);
    await waitForStore(b.dir, (s) => s.incoming.consumed === n && s.incoming.error === 0, 60_000);
    serverRss = Math.max(serverRss, peakRssMb(b.server.child.pid!));
    await b.server.kill('SIGTERM');
    await share.closed;
    field.close();
    mm.close();
    const result: RestResult = { n, baseline, push: pushRate, pushOnly: n / pushSecs, middleman: middlemanRate, pullOnly: n / pullSecs, clientRssMb: process.resourceUsage().maxRSS / 1024, serverRssMb: serverRss };
    process.stdout.write(JSON.stringify(result));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function rest(sizes: number[]): void {
  const f = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
  console.log('REST: push + background consume (field → site) and pull + forward + consume (field → middleman → site), end to end over loopback');
  console.log('baseline = the same serialized envelopes streamed over one loopback HTTP request into a bare SQLite table, 1,000-row transactions');
  console.log('        N  baseline/s   push+consume/s  ratio   pull+forward+consume/s  ratio   client RSS  server RSS');
  const results: RestResult[] = [];
  for (const n of sizes) {
    const r = runChild<RestResult>('rest', n);
    results.push(r);
    console.log(`${String(n).padStart(9)}  ${f(r.baseline)}        ${f(r.push)}   ${(r.push / r.baseline).toFixed(2).padStart(5)}               ${f(r.middleman)}   ${(r.middleman / r.baseline).toFixed(2).padStart(5)}   ${r.clientRssMb.toFixed(0).padStart(7)} MB  ${r.serverRssMb.toFixed(0).padStart(7)} MB`);
  }
  const last = results[results.length - 1]!;
  const first = results[0]!;
  for (const r of results) console.log(`N=${r.n}: push alone ${Math.round(r.pushOnly)}/s (then the server finishes consuming); pull + apply on the middleman alone ${Math.round(r.pullOnly)}/s`);
  console.log(`target at N=${last.n}: push+consume / baseline ${(last.push / last.baseline).toFixed(2)} (≥ 0.4) ${last.push / last.baseline >= 0.4 ? 'met' : 'NOT met'}; `
    + `RSS client ${first.clientRssMb.toFixed(0)} → ${last.clientRssMb.toFixed(0)} MB, server ${first.serverRssMb.toFixed(0)} → ${last.serverRssMb.toFixed(0)} MB for ${last.n / first.n}× the data`);
}

// ------------------------------------------------------------------------------------------------ files

interface FilesResult { n: number; baseline: number; rate: number; exportRate: number; sendRate: number; importRate: number; batches: number; rssMb: number }

async function filesChild(n: number): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'edc-bench-files-'));
  const sshd = await startSshd();
  try {
    const keys = KeySet.generate();
    const field = fieldWith(root, n, keys);
    const baseline = await baselineRate(field, root);
    const remote = path.join(sshd.root, 'incoming');
    mkdirSync(remote);
    field.saveSettings({ ...field.settings, sftpHost: sshd.host, sftpPort: sshd.port, sftpUser: sshd.user, sftpPrivateKeyPath: sshd.clientKey, sftpHostKeyFingerprint: sshd.hostFingerprint, sftpTransactionDir: remote });
    const central = Store.init(path.join(root, 'central'), 'central', 'central-01', { hostname: 'bench' });
    writeKeySetFile(path.join(central.keyDir, KEYSET_FILE), keys);
    const t0 = process.hrtime.bigint();
    const exported = exportBatches(field);
    const t1 = process.hrtime.bigint();
    await send(field);
    const t2 = process.hrtime.bigint();
    const imported = importBatches(central, remote);
    const t3 = process.hrtime.bigint();
    const applied = (central.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE is_consumed = 1').get() as { n: number }).n;
    if (applied !== n || imported.quarantined.length) throw new Error(`central applied ${applied} of ${n}; quarantined ${imported.quarantined.length}`);
    const secs = (a: bigint, b: bigint) => Number(b - a) / 1e9;
    const result: FilesResult = {
      n, baseline, rate: n / secs(t0, t3), exportRate: n / secs(t0, t1), sendRate: n / secs(t1, t2), importRate: n / secs(t2, t3),
      batches: exported.batches.length, rssMb: process.resourceUsage().maxRSS / 1024,
    };
    field.close();
    central.close();
    process.stdout.write(JSON.stringify(result));
  } finally {
    await sshd.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

function files(sizes: number[]): void {
  const f = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
  console.log('files: export + SFTP send (real sshd on loopback) + import + consume, end to end');
  console.log('baseline = the same serialized envelopes streamed over one loopback HTTP request into a bare SQLite table, 1,000-row transactions');
  console.log('        N  baseline/s   end-to-end/s  ratio   export/s    send/s  import+consume/s  batches  peak RSS');
  const results: FilesResult[] = [];
  for (const n of sizes) {
    const r = runChild<FilesResult>('files', n);
    results.push(r);
    console.log(`${String(n).padStart(9)}  ${f(r.baseline)}      ${f(r.rate)}   ${(r.rate / r.baseline).toFixed(2).padStart(5)}  ${f(r.exportRate)} ${f(r.sendRate)}          ${f(r.importRate)}  ${String(r.batches).padStart(7)}  ${r.rssMb.toFixed(0).padStart(5)} MB`);
  }
  const last = results[results.length - 1]!;
  const first = results[0]!;
  console.log(`target at N=${last.n}: end-to-end / baseline ${(last.rate / last.baseline).toFixed(2)} (≥ 0.4) ${last.rate / last.baseline >= 0.4 ? 'met' : 'NOT met'}; peak RSS ${first.rssMb.toFixed(0)} → ${last.rssMb.toFixed(0)} MB for ${last.n / first.n}× the data`);
}

// ------------------------------------------------------------------------------------------------ files --store postgres

interface PgFilesResult { n: number; sqlite: number; postgres: number; copy: number; rssMb: number; sqliteRssMb: number; postgresRssMb: number; batches: number }
interface CentralResult { rate: number; rssMb: number }

/** One central's import + consume of the batches in `inbox`, alone in this process: its rate and its own peak RSS. */
function centralChild(dir: string, inbox: string, n: number, database: string): void {
  const central = Store.open(dir);
  const t = process.hrtime.bigint();
  const imported = importBatches(central, inbox);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const applied = (central.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE is_consumed = 1').get() as { n: number }).n;
  central.close();
  if (applied !== n || imported.quarantined.length) throw new Error(`${database ? 'postgres' : 'sqlite'}: central applied ${applied} of ${n}; quarantined ${imported.quarantined.length}`);
  process.stdout.write(JSON.stringify({ rate: n / secs, rssMb: process.resourceUsage().maxRSS / 1024 } satisfies CentralResult));
}

/**
 * Import + consume of the same exported batches into a central store on SQLite and one on PostgreSQL (a temporary
 * PostgreSQL 15 cluster on loopback), and the COPY floor: the same envelopes as CSV into a bare PostgreSQL table.
 */
async function filesPgChild(n: number): Promise<void> {
  const { startPostgres } = await import('../electron/core/testing/postgres.ts');
  const root = mkdtempSync(path.join(os.tmpdir(), 'edc-bench-pg-'));
  const pg = startPostgres();
  try {
    const keys = KeySet.generate();
    const field = fieldWith(root, n, keys);
    const outbox = path.join(root, 'outbox');
    const exported = exportBatches(field, outbox);
    // Each central imports in a process of its own, so the peak RSS is the central's alone.
    const rate = (label: string, database: string): CentralResult => {
      const inbox = path.join(root, `inbox-${label}`);
      cpSync(outbox, inbox, { recursive: true });
      const dir = path.join(root, `central-${label}`);
      const central = Store.init(dir, 'central', 'central-01', { hostname: 'bench', ...(database ? { database } : {}) });
      writeKeySetFile(path.join(central.keyDir, KEYSET_FILE), keys);
      central.close();
      const self = fileURLToPath(import.meta.url);
      return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, 'central-child', dir, inbox, String(n), database], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as CentralResult;
    };
    const sqlite = rate('sqlite', '');
    const postgres = rate('postgres', pg.createDatabase('central'));
    // The floor: the same envelopes, as CSV, loaded with COPY into a bare table (no keys, no indexes, no triggers).
    const csv = path.join(root, 'envelopes.csv');
    const rows = field.sql.prepare('SELECT * FROM outgoing_transaction ORDER BY producer_seq').all() as EnvelopeRow[];
    const q = (v: string | number) => `"${String(v).replaceAll('"', '""')}"`;
    writeFileSync(csv, rows.map((r) => { const w = toWire(r); return [w.id, w.producer, w.producerSeq, w.txName, w.txPk, w.action, w.timestamp, w.schemaVersion, w.keyId, w.tx, w.sig ?? ''].map(q).join(','); }).join('\n') + '\n');
    pg.psql('central', 'CREATE TABLE bare (id text, producer text, producer_seq bigint, tx_name text, tx_pk text, action text, "timestamp" text, schema_version bigint, key_id text, tx text, sig text)');
    const t = process.hrtime.bigint();
    pg.psql('central', `\\copy bare FROM '${csv}' WITH (FORMAT csv)`);
    const copy = n / (Number(process.hrtime.bigint() - t) / 1e9);
    field.close();
    process.stdout.write(JSON.stringify({ n, sqlite: sqlite.rate, postgres: postgres.rate, copy, rssMb: process.resourceUsage().maxRSS / 1024, sqliteRssMb: sqlite.rssMb, postgresRssMb: postgres.rssMb, batches: exported.batches.length } satisfies PgFilesResult));
  } finally {
    pg.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

function filesPg(sizes: number[]): void {
  const f = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
  console.log('files --store postgres: import + consume of the same exported batches into a central store on SQLite and on PostgreSQL 15 (loopback)');
  console.log('COPY = the same envelopes as CSV loaded with COPY into a bare PostgreSQL table (no keys, indexes or triggers)');
  console.log('peak RSS = of the central process alone (the field laptop and the batches are made in another)');
  console.log('        N   SQLite/s  PostgreSQL/s  PG/SQLite     COPY/s  PG/COPY  batches  peak RSS SQLite  peak RSS PG');
  const results: PgFilesResult[] = [];
  for (const n of sizes) {
    const r = runChild<PgFilesResult>('files-pg', n);
    results.push(r);
    console.log(`${String(n).padStart(9)}  ${f(r.sqlite)}     ${f(r.postgres)}      ${(r.postgres / r.sqlite).toFixed(2).padStart(5)}  ${f(r.copy)}    ${(r.postgres / r.copy).toFixed(3).padStart(5)}  ${String(r.batches).padStart(7)}  ${r.sqliteRssMb.toFixed(0).padStart(9)} MB  ${r.postgresRssMb.toFixed(0).padStart(8)} MB`);
  }
  const last = results[results.length - 1]!;
  const first = results[0]!;
  console.log(`target at N=${last.n}: PostgreSQL / SQLite ${(last.postgres / last.sqlite).toFixed(2)} (≥ 0.5) ${last.postgres / last.sqlite >= 0.5 ? 'met' : 'NOT met'}; peak RSS of the central on PostgreSQL ${first.postgresRssMb.toFixed(0)} → ${last.postgresRssMb.toFixed(0)} MB (on SQLite ${first.sqliteRssMb.toFixed(0)} → ${last.sqliteRssMb.toFixed(0)} MB) for ${last.n / first.n}× the data`);
}

const [what = 'crf', arg] = process.argv.slice(2);
switch (what) {
  case 'crf':
    crf(arg ? [Number(arg)] : [10_000, 100_000]);
    break;
  case 'core-child':
    child(Number(arg));
    break;
  case 'core':
    core(arg ? [Number(arg)] : [10_000, 100_000]);
    break;
  case 'rest-child':
    await restChild(Number(arg));
    break;
  case 'rest':
    rest(arg ? [Number(arg)] : [10_000, 100_000]);
    break;
  case 'files-child':
    await filesChild(Number(arg));
    break;
  case 'central-child':
    centralChild(process.argv[3]!, process.argv[4]!, Number(process.argv[5]), process.argv[6] ?? '');
    break;
  case 'files-pg-child':
    await filesPgChild(Number(arg));
    break;
  case 'files':
    if (process.argv.includes('--store') && process.argv[process.argv.indexOf('--store') + 1] === 'postgres') {
      const sizes = process.argv.slice(3).filter((a) => /^\d+$/.test(a)).map(Number);
      filesPg(sizes.length ? sizes : [10_000, 100_000]);
    } else {
      files(arg && /^\d+$/.test(arg) ? [Number(arg)] : [10_000, 100_000]);
    }
    break;
  default:
    console.error(`unknown benchmark "${what}"; available: crf, core, rest, files`);
    process.exit(2);
}
