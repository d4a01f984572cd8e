/** Test fixtures: real stores in fresh temporary folders, sharing one project key set. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WireEnvelope } from '../../../shared/envelope.ts';
import type { Role } from '../../../shared/settings.ts';
import { MODELS } from '../domain/registry.ts';
import { Study } from '../domain/study.ts';
import { toWire, type RawRow } from '../envelope.ts';
import { outgoingTransaction } from '../db/schema.ts';
import { rowsOf, shaped } from '../db/typed.ts';
import { recordRow } from '../row-shapes.ts';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../crypto/keyset.ts';
import { Store } from '../store.ts';
import { issuePairingCode, pairDevice } from '../../server/auth.ts';
import { contractOnPostgres, sharedPostgres } from './postgres.ts';

export class TestDirs {
  readonly root = mkdtempSync(path.join(os.tmpdir(), 'edc-test-'));
  private readonly stores: Store[] = [];
  readonly keys = KeySet.generate();

  path(name: string): string {
    return path.join(this.root, name);
  }

  /** A store with the shared project key set installed (pass keys: null for none, or another KeySet). */
  store(role: Role, deviceId: string, opts: { keys?: KeySet | null } = {}): Store {
    // The storage contract run puts every server store's tables in PostgreSQL (testing/postgres.ts), one database
    // each; laptops stay on SQLite, as in the field.
    const database = contractOnPostgres && (role === 'site' || role === 'central') ? { database: sharedPostgres().createDatabase() } : {};
    const store = Store.init(this.path(deviceId), role, deviceId, { hostname: `${deviceId}.test`, ...database });
    const keys = opts.keys === undefined ? this.keys : opts.keys;
    if (keys) writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), keys);
    this.stores.push(store);
    return store;
  }

  track(store: Store): Store {
    this.stores.push(store);
    return store;
  }

  cleanup(): void {
    for (const s of this.stores) s.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function shuffle<T>(xs: T[], seed = 42): T[] {
  const out = [...xs];
  let a = seed;
  const rnd = () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x7fffffff;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A copy of `e` whose ciphertext was damaged on the way (one byte flipped): it fails DECRYPT_FAILED at the receiver. */
export function damage(e: WireEnvelope): WireEnvelope {
  const b = Buffer.from(e.tx, 'base64');
  b[b.length - 20] = b[b.length - 20]! ^ 0x55;
  return { ...e, tx: b.toString('base64') };
}

export function outgoingWire(store: Store): WireEnvelope[] {
  return rowsOf(store.sql, outgoingTransaction, 'SELECT * FROM outgoing_transaction ORDER BY producer_seq').all().map(toWire);
}

/** Every synced table of a store, decrypted, keyed by txName, rows sorted by id. */
export function snapshot(store: Store): Record<string, RawRow[]> {
  const study = new Study(store);
  const out: Record<string, RawRow[]> = {};
  for (const m of MODELS.values()) {
    out[m.txName] = shaped(store.sql, recordRow, `SELECT * FROM "${m.tableName}" ORDER BY id`).all().map((r) => study.decrypted(m.txName, r));
  }
  return out;
}

export function mergeSnapshots(snaps: Record<string, RawRow[]>[]): Record<string, RawRow[]> {
  const out: Record<string, RawRow[]> = {};
  for (const m of MODELS.keys()) out[m] = snaps.flatMap((s) => s[m]!).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  return out;
}

/** A device to pair: a real store (paired with its device key), or a bare id (paired without a key, as before device keys). */
export type PairedWith = Store | { deviceId: string; role?: Role; publicKey?: string };

/**
 * Pairs devices with a site (or central) server the way an administrator and the device do: a one-time code issued
 * for the device id and role, then exchanged by the device presenting its key. A site takes data only from devices
 * paired with it, whoever carries the data (REST, a middleman, a file, a copy).
 */
export function pairAt(server: Store, ...devices: PairedWith[]): void {
  for (const d of devices) {
    const target = d instanceof Store
      ? { deviceId: d.deviceId, role: d.role, publicKey: d.signingKey.publicKey }
      : { deviceId: d.deviceId, role: d.role ?? 'field', publicKey: d.publicKey };
    const { code } = issuePairingCode(server, { deviceId: target.deviceId, role: target.role });
    pairDevice(server, code, target.deviceId, target.role, target.publicKey);
  }
}
