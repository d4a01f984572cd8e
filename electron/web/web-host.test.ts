/**
 * The web host over real HTTP on 127.0.0.1: accounts (scrypt, never plaintext), sessions (HttpOnly cookie, expiry,
 * logout, password change), the permission matrix, closed error codes with HTTP statuses, the event stream, the
 * pages' security headers, and the field/middleman rule that a UI-only server needs an account.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { Consumer } from '../core/consumer.ts';
import { KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { Study } from '../core/domain/study.ts';
import { DB_FILE, type Store } from '../core/store.ts';
import { outgoingWire, pairAt, TestDirs } from '../core/testing/fixtures.ts';
import { startSiteServer, type SiteServer } from '../server/site-server.ts';
import { addUser, login, removeUser, sessionUser, SESSION_TTL_MS } from './accounts.ts';
import { CSP } from './web-host.ts';

const PW = 'a long enough password';

describe('web host', () => {
  let dirs: TestDirs;
  let store: Store;
  let server: SiteServer;
  const cookieOf = async (username: string, password = PW): Promise<string> => {
    const res = await fetch(`${server.url}/api/app/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify({ username, password }) });
    assert.equal(res.status, 200, await res.clone().text());
    const set = res.headers.get('set-cookie') ?? '';
    assert.match(set, /HttpOnly/i);
    assert.match(set, /SameSite=Strict/i);
    return set.split(';')[0]!;
  };
  const call = (name: string, body: unknown, cookie?: string) => fetch(`${server.url}/api/app/call/${name}`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: server.url, ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body),
  });

  before(async () => {
    dirs = new TestDirs();
    store = dirs.store('site', 'site-01');
    await addUser(store, 'lab', 'lab-assistant', PW);
    await addUser(store, 'dm', 'data-manager', PW);
    await addUser(store, 'root', 'admin', PW);
    const rendererDir = dirs.path('renderer');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>EDC Sync</title>');
    mkdirSync(path.join(rendererDir, 'assets'));
    writeFileSync(path.join(rendererDir, 'assets', 'index-x.js.map'), '{"version":3,"sources":["App.tsx"]}');
    server = await startSiteServer(store, '127.0.0.1', 0, () => {}, { rendererDir });
  });
  after(async () => {
    await server.close();
    dirs.cleanup();
  });

  it('stores only scrypt hashes: no password in the database file', () => {
    const row = store.sql.prepare("SELECT password_hash FROM web_user WHERE username = 'lab'").get() as { password_hash: string };
    assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$/);
    for (const f of [DB_FILE, `${DB_FILE}-wal`].map((n) => path.join(store.dir, n)).filter(existsSync)) {
      assert.equal(readFileSync(f).includes(Buffer.from(PW)), false, f);
    }
  });

  it('refuses bad accounts: short passwords, odd usernames, unknown roles', async () => {
    for (const [u, r, p] of [['x', 'admin', PW], ['ok-name', 'admin', 'short'], ['ok-name', 'superuser', PW], ['bad name', 'admin', PW]] as const) {
      await assert.rejects(addUser(store, u, r as never, p), (e) => isEdcError(e, 'USER_INVALID'));
    }
  });

  it('answers 401 to every call without a valid session, and LOGIN_FAILED to wrong passwords', async () => {
    for (const [name, cookie] of [['status.get', undefined], ['batches.retry', undefined], ['status.get', 'edc_session=forged-token-forged-token-forged'], ['status.get', 'edc_session=']] as const) {
      const res = await call(name, {}, cookie);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'SESSION_REQUIRED');
    }
    assert.equal((await fetch(`${server.url}/api/app/events`)).status, 401);
    assert.equal((await fetch(`${server.url}/api/app/session`)).status, 401);
    const wrong = await fetch(`${server.url}/api/app/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify({ username: 'lab', password: 'not the password' }) });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'LOGIN_FAILED');
    const unknown = await fetch(`${server.url}/api/app/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify({ username: 'ghost', password: PW }) });
    assert.equal(unknown.status, 401);
    const malformed = await fetch(`${server.url}/api/app/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: '{"username": 5}' });
    assert.equal(malformed.status, 400);
  });

  it('applies the permission matrix and the device role, with closed error codes', async () => {
    const lab = await cookieOf('lab');
    assert.equal((await call('status.get', {}, lab)).status, 200);
    assert.equal((await call('batches.list', {}, lab)).status, 200);
    const denied = await call('device.setup', { keyFile: '/etc/passwd' }, lab);
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { error: { code: string } }).error.code, 'PERMISSION_DENIED');
    const role = await call('subjects.register', {}, await cookieOf('dm'));
    assert.equal(role.status, 403);
    assert.equal(((await role.json()) as { error: { code: string } }).error.code, 'ROLE_NOT_ALLOWED');
    const unknown = await call('fs.readFile', {}, lab);
    assert.equal(unknown.status, 404);
    const invalid = await call('batches.list', { pageSize: 'lots' }, lab);
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: { message: string } }).error.message, /^pageSize: /);
    const info = (await (await call('app.info', {}, lab)).json()) as { value: { user: { role: string }; permissions: string[]; settings: unknown } };
    assert.equal(info.value.user.role, 'lab-assistant');
    assert.equal(info.value.settings, null, 'the set-up (paths, SFTP target) is shown to admins only');
    const admin = (await (await call('app.info', {}, await cookieOf('root'))).json()) as { value: { settings: { role: string } } };
    assert.equal(admin.value.settings.role, 'site');
    assert.ok(!info.value.permissions.includes('decrypt') && !info.value.permissions.includes('configure'));
  });

  it('ends sessions on logout, on a password change and at expiry', async () => {
    const a = await cookieOf('root');
    assert.equal((await call('status.get', {}, a)).status, 200);
    await fetch(`${server.url}/api/app/logout`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url, cookie: a }, body: '{}' });
    assert.equal((await call('status.get', {}, a)).status, 401);
    const b = await cookieOf('root');
    await addUser(store, 'root', 'admin', `${PW} changed`);
    assert.equal((await call('status.get', {}, b)).status, 401);
    await addUser(store, 'leaver', 'lab-assistant', PW);
    const c = await cookieOf('leaver');
    removeUser(store, 'leaver');
    assert.equal((await call('status.get', {}, c)).status, 401, 'a removed account\'s session ends at once');
    assert.throws(() => removeUser(store, 'leaver'), (e) => isEdcError(e, 'RECORD_NOT_FOUND'));
    const s = await login(store, 'root', `${PW} changed`);
    assert.equal(sessionUser(store, s.token).username, 'root');
    assert.throws(() => sessionUser(store, s.token, Date.now() + SESSION_TTL_MS + 1000), (e) => isEdcError(e, 'SESSION_REQUIRED'));
  });

  it('streams events to logged-in pages', async () => {
    const cookie = await cookieOf('dm');
    const ac = new AbortController();
    const res = await fetch(`${server.url}/api/app/events`, { headers: { cookie }, signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /connected/);
    ac.abort();
  });

  it('serves the pages with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-security-policy'), CSP);
    assert.match(CSP, /script-src 'self'(;|$)/);
    assert.match(CSP, /connect-src 'self'/);
    assert.match(CSP, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
  });

  it('serves source maps only after login', async () => {
    assert.equal((await fetch(`${server.url}/assets/index-x.js.map`)).status, 404);
    const cookie = await cookieOf('lab');
    const res = await fetch(`${server.url}/assets/index-x.js.map`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /App\.tsx/);
  });

  it('shows why the background consumer stopped, and clears it once a retry applied everything', async () => {
    const rotated = dirs.keys.rotated();
    const laptop = dirs.store('field', 'ra-66', { keys: rotated });
    new Study(laptop).registerSubject({ firstName: 'Mpho', lastName: 'Dube', dob: '1992-03-04', identityNumber: '920304', phone: null, gender: 'M', registrationDatetime: new Date().toISOString() }, { user: 'ra' });
    pairAt(store, laptop);
    new Consumer(store).ingest(outgoingWire(laptop), 'rest', 'b-66');
    server.background!.kick();
    await server.background!.idle();
    const lab = await cookieOf('lab');
    const list = async () => ((await (await call('batches.list', {}, lab)).json()) as { value: { consumerError: string | null } }).value;
    assert.match((await list()).consumerError ?? '', /none of the pending transactions can be decrypted/);
    const stillFailing = await call('batches.retry', {}, lab);
    assert.equal(((await stillFailing.json()) as { error: { code: string } }).error.code, 'KEY_UNKNOWN');
    writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), dirs.keys.merged(rotated)); // the fix: the newer key set
    const retried = (await (await call('batches.retry', {}, lab)).json()) as { value: { applied: number } };
    assert.equal(retried.value.applied, 1);
    assert.equal((await list()).consumerError, null);
  });

  it('a field device serves its UI only once it has an account', async () => {
    const field = dirs.store('field', 'ra-05');
    await assert.rejects(startSiteServer(field, '127.0.0.1', 0), (e) => isEdcError(e, 'NO_ACCOUNTS'));
    await addUser(field, 'ra', 'research-assistant', PW);
    const ui = await startSiteServer(field, '127.0.0.1', 0);
    try {
      assert.equal((await fetch(`${ui.url}/api/v1/health`)).status, 404, 'no device API on a field laptop');
      const login = await fetch(`${ui.url}/api/app/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ui.url }, body: JSON.stringify({ username: 'ra', password: PW }) });
      assert.equal(login.status, 200);
    } finally {
      await ui.close();
    }
  });
});
