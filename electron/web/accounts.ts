/**
 * Web UI accounts and sessions (site/central servers, and any device serving its UI to a browser).
 * Passwords: scrypt (N=2^15, r=8, p=1, 16-byte salt), compared in constant time. Sessions: a random token in an
 * HttpOnly cookie; the store keeps only its SHA-256, with a fixed expiry.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { userRoleSchema, type UserRole } from '../../shared/contract.ts';
import { EdcError } from '../../shared/errors.ts';
import type { Store } from '../core/store.ts';
import { shaped } from '../core/db/typed.ts';
import { newToken, sha256 } from '../server/auth.ts';

// What is read of the accounts, checked where it is read (core/db/typed.ts).
const userRow = z.object({ username: z.string(), role: userRoleSchema, created_at: z.string() });
const loginRow = z.object({ username: z.string(), role: userRoleSchema, password_hash: z.string() });
const sessionRow = z.object({ username: z.string(), role: userRoleSchema, expires_at: z.string() });

export const SESSION_TTL_MS = 12 * 3600_000;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
export const usernameSchema = z.string().regex(/^[A-Za-z0-9._-]{2,64}$/);
export const passwordSchema = z.string().min(10).max(1024);

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, 32, opts, (e, key) => (e ? reject(e) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const want = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Adds the account, or sets a new password and role when it exists. Returns whether it was new. */
export async function addUser(store: Store, username: string, role: UserRole, password: string): Promise<boolean> {
  if (!usernameSchema.safeParse(username).success || !passwordSchema.safeParse(password).success || !userRoleSchema.safeParse(role).success) {
    throw new EdcError('USER_INVALID');
  }
  const hash = await hashPassword(password);
  const now = new Date().toISOString();
  const existed = store.sql.prepare('SELECT 1 FROM web_user WHERE username = ?').get(username) !== undefined;
  store.sql.transaction(() => {
    store.sql.prepare(`INSERT INTO web_user (username, role, password_hash, created_at, updated_at) VALUES (?,?,?,?,?)
      ON CONFLICT(username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, updated_at = excluded.updated_at`)
      .run(username, role, hash, now, now);
    // A new password ends the account's sessions.
    if (existed) store.sql.prepare('DELETE FROM web_session WHERE username = ?').run(username);
  });
  return !existed;
}

/** Removes the account; its sessions end with it (they reference the account). */
export function removeUser(store: Store, username: string): void {
  const removed = store.sql.transaction(() => {
    store.sql.prepare('DELETE FROM web_session WHERE username = ?').run(username);
    return store.sql.prepare('DELETE FROM web_user WHERE username = ?').run(username).changes;
  });
  if (removed === 0) throw new EdcError('RECORD_NOT_FOUND', `no account ${username}`);
}

export function listUsers(store: Store): { username: string; role: UserRole; createdAt: string }[] {
  return shaped(store.sql, userRow, 'SELECT username, role, created_at FROM web_user ORDER BY username').all()
    .map((u) => ({ username: u.username, role: u.role, createdAt: u.created_at }));
}

/** A dummy hash so an unknown username costs the same time as a wrong password. */
let dummyHash: Promise<string> | undefined;

export async function login(store: Store, username: string, password: string, now = Date.now()): Promise<{ token: string; username: string; role: UserRole }> {
  const user = shaped(store.sql, loginRow, 'SELECT username, role, password_hash FROM web_user WHERE username = ?').get(username);
  dummyHash ??= hashPassword(randomBytes(12).toString('hex'));
  const ok = await verifyPassword(password, user?.password_hash ?? await dummyHash);
  if (!user || !ok) throw new EdcError('LOGIN_FAILED');
  const token = newToken();
  store.sql.prepare('DELETE FROM web_session WHERE expires_at < ?').run(new Date(now).toISOString());
  store.sql.prepare('INSERT INTO web_session (token_hash, username, created_at, expires_at) VALUES (?,?,?,?)')
    .run(sha256(token), user.username, new Date(now).toISOString(), new Date(now + SESSION_TTL_MS).toISOString());
  return { token, username: user.username, role: user.role };
}

export function sessionUser(store: Store, token: string | undefined, now = Date.now()): { username: string; role: UserRole } {
  if (!token || !/^[A-Za-z0-9_-]{20,200}$/.test(token)) throw new EdcError('SESSION_REQUIRED');
  const row = shaped(store.sql, sessionRow, `SELECT u.username, u.role, s.expires_at FROM web_session s JOIN web_user u ON u.username = s.username
    WHERE s.token_hash = ?`).get(sha256(token));
  if (!row || row.expires_at < new Date(now).toISOString()) throw new EdcError('SESSION_REQUIRED');
  return { username: row.username, role: row.role };
}

export function logout(store: Store, token: string | undefined): void {
  if (token) store.sql.prepare('DELETE FROM web_session WHERE token_hash = ?').run(sha256(token));
}
