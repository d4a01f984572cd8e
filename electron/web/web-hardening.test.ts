/**
 * The web UI against a real server process on 127.0.0.1, attacked as a browser page or a script would: 40
 * concurrent wrong passwords, a form posted from a page on another port of the same host with the user's cookie,
 * API answers that a browser could cache or sniff, and a sweep of accounts from one address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Store } from '../core/store.ts';
import { TestDirs } from '../core/testing/fixtures.ts';
import { freePort, startServer, type ServerProc } from '../core/testing/processes.ts';
import { addUser } from './accounts.ts';
import { LOGIN_LIMITS } from './login-limiter.ts';

const PW = 'a long enough password';

describe('web hardening', () => {
  let dirs: TestDirs;
  let server: ServerProc;
  let siteDir: string;

  before(async () => {
    dirs = new TestDirs();
    const site = dirs.store('site', 'site-w');
    for (const u of ['lab', 'dm', 'root']) await addUser(site, u, u === 'root' ? 'admin' : 'lab-assistant', PW);
    siteDir = site.dir;
    site.close();
    server = await startServer(siteDir);
  });
  after(async () => {
    await server.kill('SIGKILL');
    dirs.cleanup();
  });

  const login = (username: string, password: string, headers: Record<string, string> = {}) => fetch(`${server.url}/api/app/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: server.url, ...headers }, body: JSON.stringify({ username, password }),
  });
  const codeOf = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code ?? 'OK';

  it('40 concurrent wrong passwords for one account: only the account\'s limit is checked, the rest refused before scrypt; other accounts still log in', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login('lab', `wrong password ${i}`).then(codeOf)));
    const checked = answers.filter((c) => c === 'LOGIN_FAILED').length;
    const limited = answers.filter((c) => c === 'RATE_LIMITED').length;
    assert.equal(checked + limited, 40, answers.join(','));
    assert.ok(checked <= LOGIN_LIMITS.perAccountPerMinute, `${checked} passwords were checked`);
    assert.equal(await codeOf(await login('lab', PW)), 'RATE_LIMITED', 'the attacked account waits a minute, even with the right password');
    const other = await login('dm', PW);
    assert.equal(other.status, 200, 'another account from the same address is not locked out');
    assert.equal(other.headers.get('cache-control'), 'no-store');
    assert.equal(other.headers.get('x-content-type-options'), 'nosniff');
  });

  it('a form posted from a page on another port of this host, with the user\'s cookie, is refused and runs nothing', async () => {
    const res = await login('root', PW);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const otherPort = `http://127.0.0.1:${await freePort()}`;
    const before = Store.open(siteDir);
    const importsBefore = (before.sql.prepare('SELECT count(*) AS n FROM file_import').get() as { n: number }).n;
    before.close();
    // What a browser sends for <form method=post action=…/files.import> on another port: no body, a form type.
    const bodiless = await fetch(`${server.url}/api/app/call/files.import`, { method: 'POST', headers: { cookie, origin: otherPort, 'sec-fetch-site': 'same-site' } });
    assert.equal(bodiless.status, 403);
    const form = await fetch(`${server.url}/api/app/call/files.import`, { method: 'POST', headers: { cookie, origin: otherPort, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    assert.equal(form.status, 403);
    const jsonOtherOrigin = await fetch(`${server.url}/api/app/call/status.get`, { method: 'POST', headers: { cookie, origin: otherPort, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(jsonOtherOrigin.status, 403);
    const noOrigin = await fetch(`${server.url}/api/app/call/status.get`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noOrigin.status, 403, 'neither Origin nor Sec-Fetch-Site: same-origin');
    const after = Store.open(siteDir);
    assert.equal((after.sql.prepare('SELECT count(*) AS n FROM file_import').get() as { n: number }).n, importsBefore);
    after.close();
    // The page itself (same origin, JSON) works, and the answer is neither cached nor sniffed.
    const own = await fetch(`${server.url}/api/app/call/status.get`, { method: 'POST', headers: { cookie, origin: server.url, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('cache-control'), 'no-store');
    const viaFetchMetadata = await fetch(`${server.url}/api/app/call/status.get`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(viaFetchMetadata.status, 200);
    const health = await fetch(`${server.url}/api/v1/health`);
    assert.equal(health.headers.get('cache-control'), 'no-store');
    assert.equal(health.headers.get('x-content-type-options'), 'nosniff');
  });

  it('one address sweeping many accounts is limited per address, counted before the password check', async () => {
    const n = LOGIN_LIMITS.perAddressPerMinute + 10;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => login(`ghost-${i}`, 'x'.repeat(12)).then(codeOf)));
    const checked = answers.filter((c) => c === 'LOGIN_FAILED').length;
    assert.ok(checked <= LOGIN_LIMITS.perAddressPerMinute, `${checked} checked`);
    assert.ok(answers.filter((c) => c === 'RATE_LIMITED').length >= 10);
  });
});
