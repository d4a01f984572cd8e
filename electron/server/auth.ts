/**
 * Device pairing and tokens on the site/central server. Codes and tokens are random; only their SHA-256 is
 * stored. A pairing code is single-use and expires; a token is per device and revocable.
 */
import { z } from 'zod';
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { EdcError } from '../../shared/errors.ts';
import { deviceIdSchema, roleSchema, type Role } from '../../shared/settings.ts';
import { isDevicePublicKey } from '../core/crypto/device-key.ts';
import type { Store } from '../core/store.ts';
import { shaped } from '../core/db/typed.ts';

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I
export const PAIRING_CODE_TTL_MS = 10 * 60_000;

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export function newCode(): string {
  const raw = Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
  return `${raw.slice(0, 4)}-${raw.slice(4)}`;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function codesEqual(a: string, b: string): boolean {
  const x = Buffer.from(sha256(normalizeCode(a)));
  const y = Buffer.from(sha256(normalizeCode(b)));
  return timingSafeEqual(x, y);
}

export interface PairingTarget {
  deviceId: string;
  role: Role;
  /** 'replace': the code lets a new machine take over an existing device id (new token and key; recorded). */
  purpose?: 'pair' | 'replace';
  /** Who issued it (recorded): the OS user of the CLI, or the web account. */
  actor?: string;
}

/**
 * `pairing-code --device-id ID --role R [--replace]`: a one-time code (10 minutes) that pairs exactly that device id
 * with exactly that role. A device id already paired (or revoked) can only be taken over by a replace code.
 */
export function issuePairingCode(store: Store, target: PairingTarget, now = Date.now()): { code: string; expiresAt: string; deviceId: string; role: Role; purpose: 'pair' | 'replace' } {
  assertServerRole(store);
  const deviceId = deviceIdSchema.safeParse(target.deviceId);
  if (!deviceId.success) throw new EdcError('DEVICE_ID_INVALID', `"${target.deviceId}"`);
  if (target.deviceId === store.deviceId) throw new EdcError('INPUT_INVALID', `device id ${target.deviceId} is this server's own`);
  const purpose = target.purpose ?? 'pair';
  const existing = deviceRow(store, target.deviceId);
  if (purpose === 'pair' && existing) {
    throw new EdcError('INPUT_INVALID', `${target.deviceId} is already paired${existing.revoked_at ? ' (revoked)' : ''}; to give its id to a new machine issue a replace code (\`pairing-code --device-id ${target.deviceId} --role ${existing.role} --replace\`)${existing.revoked_at ? ', or reinstate it (`devices reinstate`)' : ''}`);
  }
  if (purpose === 'replace' && !existing) throw new EdcError('RECORD_NOT_FOUND', `no paired device ${target.deviceId} to replace; issue a normal pairing code`);
  const code = newCode();
  const at = new Date(now).toISOString();
  const expiresAt = new Date(now + PAIRING_CODE_TTL_MS).toISOString();
  store.sql.transaction(() => {
    store.sql.prepare('INSERT INTO pairing_code (code_hash, created_at, expires_at, device_id, role, purpose) VALUES (?, ?, ?, ?, ?, ?)')
      .run(sha256(normalizeCode(code)), at, expiresAt, target.deviceId, target.role, purpose);
    recordDeviceEvent(store, target.deviceId, 'code-issued', target.actor ?? 'admin', `${purpose} as ${target.role}, valid until ${expiresAt}`, at);
  });
  return { code, expiresAt, deviceId: target.deviceId, role: target.role, purpose };
}

// What is read of the device and pairing tables, checked where it is read (core/db/typed.ts).
const deviceRowSchema = z.object({ device_id: z.string(), role: roleSchema, revoked_at: z.string().nullable(), public_key: z.string().nullable() });
type DeviceRow = z.infer<typeof deviceRowSchema>;
const pairingRow = z.object({
  expires_at: z.string(), used_at: z.string().nullable(), device_id: z.string().nullable(), role: roleSchema.nullable(), purpose: z.enum(['pair', 'replace']).nullable(),
});
const pairedRow = z.object({
  device_id: z.string(), role: roleSchema, paired_at: z.string(), revoked_at: z.string().nullable(), last_seen_at: z.string().nullable(), public_key: z.string().nullable(),
});

function deviceRow(store: Store, deviceId: string): DeviceRow | undefined {
  return shaped(store.sql, deviceRowSchema, 'SELECT device_id, role, revoked_at, public_key FROM device WHERE device_id = ?').get(deviceId);
}

export function recordDeviceEvent(store: Store, deviceId: string, action: 'code-issued' | 'paired' | 'replaced' | 'revoked' | 'reinstated' | 'key-registered', actor: string, detail: string | null, at = new Date().toISOString()): void {
  store.sql.prepare('INSERT INTO device_event (device_id, action, at, actor, detail) VALUES (?, ?, ?, ?, ?)').run(deviceId, action, at, actor, detail);
}

/**
 * Exchange a pairing code for a device token. The code names the device id and role it was issued for: any other
 * id or role is refused (and the code stays unused). The device presents its public key, which is recorded.
 */
export function pairDevice(store: Store, code: string, deviceId: string, role: Role, publicKey: string | undefined, now = Date.now()): string {
  if (publicKey !== undefined && !isDevicePublicKey(publicKey)) throw new EdcError('REQUEST_INVALID', 'publicKey is not an Ed25519 public key');
  const token = newToken();
  store.sql.transaction(() => {
    const hash = sha256(normalizeCode(code));
    const row = shaped(store.sql, pairingRow, 'SELECT expires_at, used_at, device_id, role, purpose FROM pairing_code WHERE code_hash = ?').get(hash);
    if (!row || row.used_at || row.expires_at < new Date(now).toISOString() || !row.device_id) throw new EdcError('PAIRING_CODE_INVALID');
    if (row.device_id !== deviceId || row.role !== role) {
      throw new EdcError('PAIRING_CODE_INVALID', `this code was issued for ${row.device_id} as ${row.role ?? '?'}, not for ${deviceId} as ${role}`);
    }
    const existing = deviceRow(store, deviceId);
    const at = new Date(now).toISOString();
    if (row.purpose === 'replace') {
      if (!existing) throw new EdcError('PAIRING_CODE_INVALID', `${deviceId} is no longer paired`);
      store.sql.prepare('UPDATE device SET role = ?, token_hash = ?, paired_at = ?, revoked_at = NULL, public_key = ? WHERE device_id = ?')
        .run(role, sha256(token), at, publicKey ?? null, deviceId);
      recordDeviceEvent(store, deviceId, 'replaced', 'pairing code', `new machine${publicKey ? ` with key ${publicKey}` : ''}; the previous token and key no longer work`, at);
    } else {
      // Taking over a paired (or revoked) device id needs an administrator's replace code.
      if (existing) throw new EdcError('PAIRING_CODE_INVALID', `${deviceId} is already paired`);
      store.sql.prepare('INSERT INTO device (device_id, role, token_hash, paired_at, public_key) VALUES (?, ?, ?, ?, ?)').run(deviceId, role, sha256(token), at, publicKey ?? null);
      recordDeviceEvent(store, deviceId, 'paired', 'pairing code', publicKey ? `key ${publicKey}` : 'no key presented', at);
    }
    store.sql.prepare('UPDATE pairing_code SET used_at = ?, used_by = ? WHERE code_hash = ?').run(at, deviceId, hash);
  });
  return token;
}

export interface PairedDevice {
  deviceId: string;
  role: Role;
  publicKey: string | null;
}

/** The device a bearer token belongs to, or AUTH_INVALID (unknown or revoked). */
export function authenticate(store: Store, token: string): PairedDevice {
  const row = shaped(store.sql, deviceRowSchema, 'SELECT device_id, role, revoked_at, public_key FROM device WHERE token_hash = ?').get(sha256(token));
  if (!row || row.revoked_at) throw new EdcError('AUTH_INVALID');
  return { deviceId: row.device_id, role: row.role, publicKey: row.public_key };
}

/**
 * A device paired before devices had keys presents its key on its first contact after the upgrade: it is recorded,
 * bound to the token that authenticated it. A different key later is refused (a replace code is the way).
 */
export function registerDeviceKey(store: Store, who: PairedDevice, publicKey: string): PairedDevice {
  if (!isDevicePublicKey(publicKey)) throw new EdcError('REQUEST_INVALID', 'the device key header is not an Ed25519 public key');
  if (who.publicKey === publicKey) return who;
  if (who.publicKey !== null) throw new EdcError('SIGNATURE_INVALID', `${who.deviceId} presented a different device key than the one on record`);
  const res = store.sql.prepare('UPDATE device SET public_key = ? WHERE device_id = ? AND public_key IS NULL').run(publicKey, who.deviceId);
  if (res.changes === 1) recordDeviceEvent(store, who.deviceId, 'key-registered', who.deviceId, `key ${publicKey} (first contact after upgrade)`);
  return { ...who, publicKey };
}

export interface DeviceListing { deviceId: string; role: Role; pairedAt: string; revokedAt: string | null; lastSeenAt: string | null; publicKey: string | null }

export function listDevices(store: Store): DeviceListing[] {
  return shaped(store.sql, pairedRow, 'SELECT device_id, role, paired_at, revoked_at, last_seen_at, public_key FROM device ORDER BY device_id').all()
    .map((r) => ({ deviceId: r.device_id, role: r.role, pairedAt: r.paired_at, revokedAt: r.revoked_at, lastSeenAt: r.last_seen_at, publicKey: r.public_key }));
}

export function revokeDevice(store: Store, deviceId: string, actor = 'admin'): void {
  store.sql.transaction(() => {
    const res = store.sql.prepare('UPDATE device SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL').run(new Date().toISOString(), deviceId);
    if (res.changes !== 1) throw new EdcError('RECORD_NOT_FOUND', `no paired device ${deviceId}`);
    recordDeviceEvent(store, deviceId, 'revoked', actor, null);
  });
}

/** An administrator's recorded decision: a revoked device may sync again with its existing token and key. */
export function reinstateDevice(store: Store, deviceId: string, actor = 'admin'): void {
  store.sql.transaction(() => {
    const res = store.sql.prepare('UPDATE device SET revoked_at = NULL WHERE device_id = ? AND revoked_at IS NOT NULL').run(deviceId);
    if (res.changes !== 1) throw new EdcError('RECORD_NOT_FOUND', `no revoked device ${deviceId}`);
    recordDeviceEvent(store, deviceId, 'reinstated', actor, null);
  });
}

export function assertServerRole(store: Store): void {
  if (store.role !== 'site' && store.role !== 'central') {
    throw new EdcError('ROLE_NOT_ALLOWED', `a ${store.role} device does not run the server; only site and central do`);
  }
}

/** Failed authentications per remote address in a sliding minute: beyond the limit, 429 before any check. */
export class FailureLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly perMinute: number) {}

  blocked(addr: string, now = Date.now()): boolean {
    const recent = (this.hits.get(addr) ?? []).filter((t) => now - t < 60_000);
    this.hits.set(addr, recent);
    return recent.length >= this.perMinute;
  }

  fail(addr: string, now = Date.now()): void {
    const list = this.hits.get(addr) ?? [];
    list.push(now);
    this.hits.set(addr, list);
    if (this.hits.size > 10_000) this.hits.clear(); // bounded memory under a flood of addresses
  }
}
