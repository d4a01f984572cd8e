/**
 * One device's store: a data folder holding settings.json, the SQLite file (WAL) and, by default, the key folder.
 * A site or central store may keep its tables in PostgreSQL instead (the `database` setting, DESIGN section 9):
 * keys, settings, receipts and files stay in the data folder. Opening applies drizzle-kit migrations (migrations/
 * or migrations-pg/); a store written by a newer app is refused rather than damaged.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EdcError } from '../../shared/errors.ts';
import { settingsSchema, type Role, type Settings } from '../../shared/settings.ts';
import { deviceKey, type DeviceKey } from './crypto/device-key.ts';
import { assertScopeFits, KEYSET_FILE, keySetExists, loadKeySet, type KeySet } from './crypto/keyset.ts';
import { PgPort, redactUrl } from './db/pg-port.ts';
import { SqlitePort, type SqlPort } from './db/port.ts';
import { envelopeSignedBytes } from './envelope.ts';
import { rowsOf, shaped } from './db/typed.ts';
import { valueRow } from './row-shapes.ts';
import * as schema from './db/schema.ts';
import { readSettings, writeSettings } from './settings-file.ts';

/** drizzle's migration table: created_at is the migration's time in ms (null: none applied). */
const newestMigration = z.object({ newest: z.union([z.number(), z.string()]).nullable() });

export const DB_FILE = 'edc-sync.db';
const BACKLOG_SIGNED_KEY = 'outgoingSignedByDeviceKey';
const machineHostname = os.hostname();
/** Beside this module (in the desktop bundle: dist/electron/db/migrations, unpacked from the asar by electron-builder). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url)).replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
export const MIGRATIONS_PG_DIR = fileURLToPath(new URL('./db/migrations-pg', import.meta.url)).replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');

export type Db = BetterSQLite3Database<typeof schema>;

export interface OpenOptions {
  /** Apply migrations up to this many (tests of migrations); default all. */
  migrationsDir?: string;
  readonly?: boolean;
}

export class Store {
  /** What the sync core writes and reads through (see db/port.ts): SQLite, or PostgreSQL when `database` is set. */
  readonly sql: SqlPort;
  private guard = 0;
  private keys: KeySet | undefined;
  /** The key file's size, mtime and inode when `keys` was loaded (see reloadKeysIfChanged). */
  private keysStamp = '';
  /** Grows each time the key set in use is dropped for a newer one (the site's background consumer then retries what failed). */
  keysGeneration = 0;
  /** This device's Ed25519 signing key (crypto/device-key.ts). Read-only opens (another store for `copy`) load none. */
  private deviceKey: DeviceKey | undefined;

  private constructor(readonly dir: string, public settings: Settings, opts: OpenOptions = {}) {
    this.sql = settings.database ? openPostgres(settings.database, opts) : this.openSqlite(dir, settings, opts);
    if (!opts.readonly) {
      // A data folder made by an older version gets its device key on first open (see crypto/device-key.ts).
      this.deviceKey = deviceKey(dir);
      this.signOwnBacklog();
    }
  }

  private openSqlite(dir: string, settings: Settings, opts: OpenOptions): SqlPort {
    const file = path.join(dir, DB_FILE);
    let sqlite: Database.Database;
    try {
      sqlite = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
      sqlite.pragma('journal_mode = WAL');
      // Devices that acknowledge what they receive (middleman to a field laptop, servers to devices) sync every
      // commit to disk, so an acknowledged batch survives a power cut; a field laptop loses at most an ack mark.
      sqlite.pragma(`synchronous = ${settings.role === 'field' ? 'NORMAL' : 'FULL'}`);
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('busy_timeout = 5000');
      // A bounded 16 MB page cache: bulk sync touches many index pages; memory stays flat however large the store.
      sqlite.pragma('cache_size = -16384');
      sqlite.pragma('temp_store = MEMORY');
      // Checkpoint every ~40 MB of WAL rather than every 4 MB: fewer, larger copy-backs during bulk sync.
      sqlite.pragma('wal_autocheckpoint = 10000');
    } catch (cause) {
      throw new EdcError('STORE_CORRUPT', `${file}: ${(cause as Error).message}`, { cause });
    }
    sqlite.function('edc_write_guard', { deterministic: false, varargs: false }, () => this.guard);
    if (!opts.readonly) {
      // After an unclean shutdown (a process that had this store open ended without closing it: power cut, kill -9,
      // a crash) the file is checked before anything is read or written; a damaged one is refused, never used.
      const stale = staleOpenMarkers(dir);
      if (stale.length > 0) {
        this.integrityChecked = true;
        let result: string;
        try {
          result = (sqlite.pragma('quick_check', { simple: true }) as string | undefined) ?? 'no answer';
        } catch (cause) {
          result = (cause as Error).message;
        }
        if (result !== 'ok') {
          sqlite.close();
          throw new EdcError('STORE_CORRUPT', `${file} failed its integrity check after an unclean shutdown: ${result}`);
        }
        for (const f of stale) rmSync(f, { force: true });
      }
      writeFileSync(this.openMarker, `${process.pid}\n`, { mode: 0o600 });
      this.marked = true;
      applyMigrations(sqlite, drizzle(sqlite, { schema }), opts.migrationsDir ?? MIGRATIONS_DIR);
    }
    return new SqlitePort(sqlite);
  }

  /** Whether this open ran SQLite's quick_check (a process before it had not closed the store). */
  integrityChecked = false;
  /** This open wrote the open mark (read-only opens, of another device's folder for `copy`, write none). */
  private marked = false;

  /** This process's mark that it has the store open (removed by close(); left behind, it means an unclean end). */
  private get openMarker(): string {
    return path.join(this.dir, `${OPEN_MARKER}${process.pid}`);
  }

  /**
   * Once per store, after the upgrade to signing: the device signs its own outgoing transactions that were made
   * before it had a key, so what it still has to send verifies at receivers that now know its key. Only this
   * device's own rows (it vouches for its own log); the fields are unchanged, the signature is added.
   */
  private signOwnBacklog(): void {
    if (this.getState(BACKLOG_SIGNED_KEY) === '1') return;
    const key = this.deviceKey!;
    this.sql.transaction(() => {
      const rows = rowsOf(this.sql, schema.outgoingTransaction, 'SELECT * FROM outgoing_transaction WHERE producer = ? AND sig IS NULL').all(this.deviceId);
      const set = this.sql.prepare('UPDATE outgoing_transaction SET sig = ? WHERE id = ?');
      for (const r of rows) set.run(key.sign(envelopeSignedBytes(r)), r.id);
      this.setState(BACKLOG_SIGNED_KEY, '1');
    });
  }

  /** The SQLite connection itself, for SQLite-only tools (pragmas, benchmarks); the core uses `sql`. */
  get sqlite(): Database.Database {
    if (!(this.sql instanceof SqlitePort)) throw new Error(`this store keeps its tables in ${this.databaseLabel}, not SQLite`);
    return this.sql.db;
  }

  get signingKey(): DeviceKey {
    this.deviceKey ??= deviceKey(this.dir);
    return this.deviceKey;
  }

  /** Creates the data folder's settings and store. Refuses a folder that already holds one. */
  static init(dir: string, role: Role, deviceId: string, extra: Partial<Settings> = {}): Store {
    const settings = settingsSchema.safeParse({ ...extra, role, deviceId });
    if (!settings.success) {
      const issue = settings.error.issues[0];
      const code = issue?.path[0] === 'role' ? 'ROLE_INVALID' : issue?.path[0] === 'deviceId' ? 'DEVICE_ID_INVALID' : 'SETTINGS_INVALID';
      throw new EdcError(code, `${String(issue?.path[0] ?? '')}: ${issue?.message ?? ''}`);
    }
    if (existsSync(path.join(dir, 'settings.json')) || existsSync(path.join(dir, DB_FILE))) {
      throw new EdcError('DATA_DIR_EXISTS', dir);
    }
    const made = !existsSync(dir);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // mkdir keeps the mode of a folder that already existed (often 755): the store holds password and token
      // hashes and the non-PII clinical data, so only this account may enter the folder.
      chmodSync(dir, 0o700);
    } catch (cause) {
      throw new EdcError('IO_FAILED', `cannot create ${dir}`, { cause });
    }
    let store: Store;
    try {
      store = new Store(dir, settings.data);
    } catch (err) {
      // Nothing half-written: a folder this call made goes again (e.g. the database could not be reached).
      if (made) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    // SQLite gives the -wal and -shm files the mode of the database file.
    if (!settings.data.database) chmodSync(path.join(dir, DB_FILE), 0o600);
    writeSettings(dir, settings.data);
    return store;
  }

  /** Whether DIR holds a store: its SQLite file, or settings naming its PostgreSQL database. */
  static exists(dir: string): boolean {
    if (existsSync(path.join(dir, DB_FILE))) return true;
    if (!existsSync(path.join(dir, 'settings.json'))) return false;
    try {
      return readSettings(dir).database !== '';
    } catch {
      return false;
    }
  }

  static open(dir: string, opts: OpenOptions = {}): Store {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new EdcError('DATA_DIR_MISSING', `${dir} does not exist`);
    const settings = readSettings(dir);
    if (!settings.database && !existsSync(path.join(dir, DB_FILE))) throw new EdcError('DATA_DIR_MISSING', `${dir} has settings but no ${DB_FILE}`);
    return new Store(dir, settings, opts);
  }

  /**
   * Plain sentences for each way others on this computer could read the store (a folder made by an older version,
   * or copied with loose permissions); `init`, `server` and `status` print them.
   */
  permissionWarnings(): string[] {
    if (process.platform === 'win32') return [];
    const out: string[] = [];
    const dirMode = statSync(this.dir).mode & 0o777;
    if (dirMode & 0o077) out.push(`the data folder ${this.dir} can be opened by other accounts on this computer (mode ${dirMode.toString(8)}); run \`chmod 700 ${this.dir}\``);
    for (const name of [DB_FILE, `${DB_FILE}-wal`, 'settings.json']) {
      const file = path.join(this.dir, name);
      if (!existsSync(file)) continue;
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o044 && dirMode & 0o055) out.push(`${file} is readable by other accounts on this computer (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``);
    }
    return out;
  }

  get role(): Role {
    return this.settings.role;
  }

  get deviceId(): string {
    return this.settings.deviceId;
  }

  get hostname(): string {
    return this.settings.hostname || machineHostname;
  }

  get keyDir(): string {
    return path.resolve(this.dir, this.settings.keyDir);
  }

  hasKeys(): boolean {
    return this.keys !== undefined || keySetExists(this.keyDir);
  }

  /** The project key set; KEYS_MISSING when none is installed (callers refuse to sync then). */
  requireKeys(): KeySet {
    if (!this.keys) {
      const stamp = this.keyFileStamp();
      const keys = loadKeySet(this.keyDir);
      assertScopeFits(this.role, keys); // a middleman's carrier set on a laptop or server: refused, never half-used
      this.keys = keys;
      this.keysStamp = stamp;
    }
    return this.keys;
  }

  /**
   * For long-running processes (the site server's key watch): drops the key set in use when another process
   * (`edc-sync keys import` / `rotate`) changed the key file since it was loaded; true then. One stat, nothing read;
   * never called on the write or consume path.
   */
  reloadKeysIfChanged(): boolean {
    if (!this.keys || this.keyFileStamp() === this.keysStamp) return false;
    this.reloadKeys();
    return true;
  }

  private keyFileStamp(): string {
    try {
      const st = statSync(path.join(this.keyDir, KEYSET_FILE));
      return `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      return 'none';
    }
  }

  /** Forget the cached key set (after keys import / rotate). */
  reloadKeys(): void {
    if (this.keys) this.keysGeneration++;
    this.keys = undefined;
  }

  saveSettings(next: Settings): void {
    writeSettings(this.dir, next);
    this.settings = next;
  }

  /**
   * Runs fn in one write transaction (IMMEDIATE on SQLite, the writer lock on PostgreSQL) with the write guard open: the only way synced tables,
   * audit_history and outgoing_transaction accept writes (see migration 0001_write_guard). Nested calls join the
   * outer transaction.
   */
  guarded<T>(fn: () => T): T {
    return this.sql.transaction(() => {
      const was = this.guard;
      this.guard = 1;
      this.sql.setGuard(true);
      try {
        return fn();
      } finally {
        this.guard = was;
        if (!was) this.sql.setGuard(false);
      }
    });
  }

  getState(key: string): string | null {
    const row = shaped(this.sql, valueRow, 'SELECT value FROM device_state WHERE key = ?').get(key);
    return row?.value ?? null;
  }

  /** A device_state value kept as JSON, read back through its schema: null when absent or not of that shape. */
  getStateJson<T>(key: string, schema: z.ZodType<T>): T | null {
    const v = this.getState(key);
    if (v === null) return null;
    try {
      const r = schema.safeParse(JSON.parse(v));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  }

  setStateJson(key: string, value: unknown): void {
    this.setState(key, JSON.stringify(value));
  }

  setState(key: string, value: string): void {
    this.sql.prepare('INSERT INTO device_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  close(): void {
    this.sql.close();
    if (this.marked) rmSync(this.openMarker, { force: true });
  }

  /** Where the tables are, for people: the SQLite file, or the PostgreSQL database without its password. */
  get databaseLabel(): string {
    return this.settings.database ? redactUrl(this.settings.database) : path.join(this.dir, DB_FILE);
  }
}

/** A store's tables in PostgreSQL: connects (in the port's worker), applies migrations-pg/, refuses a newer database. */
function openPostgres(url: string, opts: OpenOptions): PgPort {
  const port = new PgPort(url, opts.migrationsDir ?? MIGRATIONS_PG_DIR);
  try {
    if (opts.readonly) return port;
    const journal = readJournal(opts.migrationsDir ?? MIGRATIONS_PG_DIR);
    const { newest } = port.migrate();
    const newestKnown = Math.max(...journal.entries.map((e) => e.when));
    if (newest !== null && newest > newestKnown) throw new EdcError('STORE_NEWER', `the database has a migration from ${new Date(newest).toISOString()}`);
    return port;
  } catch (err) {
    port.close();
    throw err;
  }
}

const OPEN_MARKER = '.open-';

/** Open marks in DIR left by processes that no longer run (each open writes `.open-<pid>`, close removes it). */
function staleOpenMarkers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(OPEN_MARKER)).filter((f) => {
    const pid = Number(f.slice(OPEN_MARKER.length));
    if (!Number.isInteger(pid) || pid <= 0) return true;
    if (pid === process.pid) return false; // this process has it open too (another Store object)
    try {
      process.kill(pid, 0);
      return false; // still running: its store is open, not abandoned
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }).map((f) => path.join(dir, f));
}

interface Journal { entries: { idx: number; when: number; tag: string }[] }

export function readJournal(migrationsDir: string): Journal {
  return JSON.parse(readFileSync(path.join(migrationsDir, 'meta', '_journal.json'), 'utf8')) as Journal;
}

function applyMigrations(sqlite: Database.Database, db: Db, migrationsDir: string): void {
  const journal = readJournal(migrationsDir);
  const newestKnown = Math.max(...journal.entries.map((e) => e.when));
  const hasTable = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (hasTable) {
    const row = newestMigration.parse(sqlite.prepare('SELECT max(created_at) AS newest FROM __drizzle_migrations').get());
    if (row.newest !== null && Number(row.newest) > newestKnown) {
      throw new EdcError('STORE_NEWER', `the store has a migration from ${new Date(Number(row.newest)).toISOString()}`);
    }
  }
  try {
    migrate(db, { migrationsFolder: migrationsDir });
  } catch (cause) {
    throw new EdcError('STORE_CORRUPT', `migrations failed: ${(cause as Error).message}`, { cause });
  }
}
