/**
 * A real PostgreSQL 15 for tests (TOOLCHAIN.md recipe): a temporary cluster made with Debian's initdb (as the
 * `postgres` system user when running as root, which PostgreSQL refuses to run as), trust auth for the `edc` role,
 * a free port on 127.0.0.1, a socket in the cluster's own folder; stopped and removed after. Synchronous (~3 s), so
 * fixtures that make stores synchronously (TestDirs) can use it; one cluster per test process is shared.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  /** postgres://edc@127.0.0.1:port/<db> */
  url(db: string): string;
  /** A new, empty database; its URL. */
  createDatabase(name?: string): string;
  /** psql -c, as the superuser edc; its output (unaligned, tuples only). */
  psql(db: string, sql: string, user?: string): string;
  stop(): void;
  start(): void;
  destroy(): void;
}

function asPostgres(cmd: string, args: string[]): string {
  const root = process.getuid?.() === 0;
  return execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function freePortSync(): number {
  const js = "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  // A plain Node (no loaders from this process's NODE_OPTIONS, as under Playwright): its last line is the port.
  const out = execFileSync(process.execPath, ['-e', js], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  const port = Number(out.trim().split('\n').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no free port found (${out.trim()})`);
  return port;
}

export function postgresAvailable(): boolean {
  return existsSync(path.join(BIN, 'initdb'));
}

export function startPostgres(): PgCluster {
  if (!postgresAvailable()) throw new Error(`PostgreSQL 15 is not installed (${BIN}): apt-get install -y postgresql`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edc-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const data = path.join(dir, 'data');
  asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'edc', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = freePortSync();
  // fsync stays on: the fault tests stop the server mid-import and count on what it acknowledged.
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = () => { asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', opts, 'start']); };
  const stop = () => { asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-w', 'stop', '-m', 'fast']); };
  start();
  const psql = (db: string, sql: string, user = 'edc') =>
    execFileSync(path.join(BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const url = (db: string) => `postgres://edc@127.0.0.1:${port}/${db}`;
  let up = true;
  return {
    port, url, psql,
    createDatabase(name = `t_${randomBytes(6).toString('hex')}`) {
      psql('postgres', `CREATE DATABASE "${name}"`);
      return url(name);
    },
    stop() { if (up) { stop(); up = false; } },
    start() { if (!up) { start(); up = true; } },
    destroy() {
      try { if (up) stop(); } catch { /* already down */ }
      up = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: PgCluster | null = null;

/** One cluster for this test process, made on first use and removed when the process exits. */
export function sharedPostgres(): PgCluster {
  if (!shared) {
    shared = startPostgres();
    const cluster = shared;
    process.once('exit', () => cluster.destroy());
  }
  return shared;
}

/** The storage contract run (scripts/test-all.sh): EDC_TEST_STORE=postgres puts every test store's tables in PostgreSQL. */
export const contractOnPostgres = process.env.EDC_TEST_STORE === 'postgres';
