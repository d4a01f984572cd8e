/**
 * Device pairing and tokens on the site/central server. Codes and tokens are random; only their SHA-256 is
 * stored. A pairing code is single-use and expires; a token is per device and revocable.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { EdcError } from '../../shared/errors.ts';
import type { Role } from '../../shared/settings.ts';
import type { Store } from '../core/store.ts';

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

/** `pairing-code`: a new one-time code, valid for 10 minutes. */
export function issuePairingCode(store: Store, now = Date.now()): { code: string; expiresAt: string } {
  assertServerRole(store);
  const code = newCode();
  const expiresAt = new Date(now + PAIRING_CODE_TTL_MS).toISOString();
  store.sql.prepare('INSERT INTO pairing_code (code_hash, created_at, expires_at) VALUES (?, ?, ?)').run(sha256(normalizeCode(code)), new Date(now).toISOString(), expiresAt);
  return { code, expiresAt };
}

/** Exchange a pairing code for a device token. Re-pairing a device replaces (revokes) its old token. */
export function pairDevice(store: Store, code: string, deviceId: string, role: Role, now = Date.now()): string {
  const token = newToken();
  store.sql.transaction(() => {
    const row = store.sql.prepare('SELECT expires_at, used_at FROM pairing_code WHERE code_hash = ?').get(sha256(normalizeCode(code))) as { expires_at: string; used_at: string | null } | undefined;
    if (!row || row.used_at || row.expires_at < new Date(now).toISOString()) throw new EdcError('PAIRING_CODE_INVALID');
    if (deviceId === store.deviceId) throw new EdcError('REQUEST_INVALID', `device id ${deviceId} is the server's own`);
    const at = new Date(now).toISOString();
    store.sql.prepare('UPDATE pairing_code SET used_at = ?, used_by = ? WHERE code_hash = ?').run(at, deviceId, sha256(normalizeCode(code)));
    store.sql.prepare(`INSERT INTO device (device_id, role, token_hash, paired_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(device_id) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash, paired_at = excluded.paired_at, revoked_at = NULL`)
      .run(deviceId, role, sha256(token), at);
  });
  return token;
}

export interface PairedDevice {
  deviceId: string;
  role: Role;
}

/** The device a bearer token belongs to, or AUTH_INVALID (unknown or revoked). */
export function authenticate(store: Store, token: string): PairedDevice {
  const row = store.sql.prepare('SELECT device_id, role, revoked_at FROM device WHERE token_hash = ?').get(sha256(token)) as { device_id: string; role: Role; revoked_at: string | null } | undefined;
  if (!row || row.revoked_at) throw new EdcError('AUTH_INVALID');
  return { deviceId: row.device_id, role: row.role };
}

export function listDevices(store: Store): { deviceId: string; role: Role; pairedAt: string; revokedAt: string | null; lastSeenAt: string | null }[] {
  return (store.sql.prepare('SELECT device_id, role, paired_at, revoked_at, last_seen_at FROM device ORDER BY device_id').all() as Record<string, string | null>[])
    .map((r) => ({ deviceId: r.device_id!, role: r.role as Role, pairedAt: r.paired_at!, revokedAt: r.revoked_at ?? null, lastSeenAt: r.last_seen_at ?? null }));
}

export function revokeDevice(store: Store, deviceId: string): void {
  const res = store.sql.prepare('UPDATE device SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL').run(new Date().toISOString(), deviceId);
  if (res.changes !== 1) throw new EdcError('RECORD_NOT_FOUND', `no paired device ${deviceId}`);
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
