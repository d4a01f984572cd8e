/**
 * Hostile and malformed requests against a real site server process: each refused with a 4xx and a reason,
 * nothing written, and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { LIMITS } from '../../shared/api.ts';
import { Study } from '../core/domain/study.ts';
import { readStatus } from '../core/status.ts';
import { Store } from '../core/store.ts';
import { outgoingWire, TestDirs } from '../core/testing/fixtures.ts';
import { startServer, type ServerProc } from '../core/testing/processes.ts';
import { pair, readServerLink } from '../sync/server-link.ts';
import { issuePairingCode, revokeDevice } from './auth.ts';

const ra = { user: 'ra' };

describe('hostile requests', () => {
  let dirs: TestDirs;
  let server: ServerProc;
  let siteDir: string;
  let token: string;
  let otherToken: string;
  let own: ReturnType<typeof outgoingWire>;

  before(async () => {
    dirs = new TestDirs();
    const site = dirs.store('site', 'site-h');
    siteDir = site.dir;
    site.close();
    server = await startServer(siteDir);
    const field = dirs.store('field', 'ra-h1');
    new Study(field).registerSubject({ firstName: 'Kagiso', lastName: 'Molefe', dob: '1990-04-02', identityNumber: '123456789', phone: null, gender: 'F', registrationDatetime: '2026-01-05T08:00:00.000Z' }, ra);
    const other = dirs.store('field', 'ra-h2');
    for (const s of [field, other]) {
      const admin = Store.open(siteDir);
      const { code } = issuePairingCode(admin, { deviceId: s.deviceId, role: s.role });
      admin.close();
      await pair(s, server.url, code);
    }
    token = readServerLink(field.dir).token;
    otherToken = readServerLink(other.dir).token;
    own = outgoingWire(field);
  });
  after(async () => {
    await server.kill('SIGKILL');
    dirs.cleanup();
  });

  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/v1/push`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const json = (v: unknown) => JSON.stringify(v);
  const auth = (t: string) => ({ authorization: `Bearer ${t}` });

  async function expectRefused(res: Response, status: number, code: string): Promise<void> {
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 20, 'says what was wrong');
  }

  function siteTotal(): number {
    const s = Store.open(siteDir);
    try {
      return readStatus(s).incoming.total;
    } finally {
      s.close();
    }
  }

  it('no token, a wrong token, a malformed header: 401', async () => {
    await expectRefused(await post(json({ transactions: own })), 401, 'AUTH_REQUIRED');
    await expectRefused(await post(json({ transactions: own }), auth('x'.repeat(43))), 401, 'AUTH_INVALID');
    await expectRefused(await post(json({ transactions: own }), { authorization: 'Basic abc' }), 401, 'AUTH_INVALID');
  });

  it('another device\'s producer: 403', async () => {
    await expectRefused(await post(json({ transactions: own }), auth(otherToken)), 403, 'FORBIDDEN_PRODUCER');
  });

  it('malformed JSON, wrong types, unknown fields, empty batch, bad encodings: 400', async () => {
    await expectRefused(await post('{"transactions": [', auth(token)), 400, 'REQUEST_INVALID');
    await expectRefused(await post(json({ transactions: 'all of them' }), auth(token)), 400, 'REQUEST_INVALID');
    await expectRefused(await post(json({ transactions: [{ ...own[0], producerSeq: 'one' }] }), auth(token)), 400, 'REQUEST_INVALID');
    await expectRefused(await post(json({ transactions: [{ ...own[0], action: 'DROP TABLE' }] }), auth(token)), 400, 'REQUEST_INVALID');
    await expectRefused(await post(json({ transactions: own, admin: true }), auth(token)), 400, 'REQUEST_INVALID');
    await expectRefused(await post(json({ transactions: [] }), auth(token)), 400, 'REQUEST_INVALID');
    await expectRefused(await post('not gzip at all', { ...auth(token), 'content-encoding': 'gzip' }), 400, 'REQUEST_INVALID');
    await expectRefused(await post(json({ transactions: own }), { ...auth(token), 'content-encoding': 'br' }), 400, 'REQUEST_INVALID');
    const res = await post(json({ transactions: own }), { ...auth(token), 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
  });

  it('a 50 MB body, a gzip bomb, 10^6 transactions claimed in one batch: 413', async () => {
    // A 50 MB body: refused on its declared length, before it is read (the server closes the upload).
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${server.url}/api/v1/push`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024), ...auth(token) } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    assert.equal(big.status, 413);
    assert.equal((JSON.parse(big.body) as { error: { code: string } }).error.code, 'BODY_TOO_LARGE');
    const bomb = gzipSync(Buffer.alloc(LIMITS.maxInflatedBytes + 1024, 0x20));
    assert.ok(bomb.length < LIMITS.maxBodyBytes);
    await expectRefused(await post(bomb, { ...auth(token), 'content-encoding': 'gzip' }), 413, 'BODY_TOO_LARGE');
    const million = `{"transactions":[${Array.from({ length: 1_000_000 }, () => '0').join(',')}]}`;
    await expectRefused(await post(gzipSync(million), { ...auth(token), 'content-encoding': 'gzip' }), 413, 'TOO_MANY_TRANSACTIONS');
  });

  it('after all of that nothing was written and the server still serves; a good push works', async () => {
    assert.equal(siteTotal(), 0);
    const health = await fetch(`${server.url}/api/v1/health`);
    assert.equal(health.status, 200);
    const ok = await post(gzipSync(json({ transactions: own })), { ...auth(token), 'content-encoding': 'gzip' });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { accepted: string[] }).accepted.length, own.length);
    assert.equal(siteTotal(), own.length);
  });

  it('a used or wrong pairing code and a revoked token are refused', async () => {
    const admin = Store.open(siteDir);
    const { code } = issuePairingCode(admin, { deviceId: 'ra-h3', role: 'field' });
    const pairReq = (c: string, deviceId: string) => fetch(`${server.url}/api/v1/pair`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: json({ code: c, deviceId, role: 'field' }),
    });
    assert.equal((await pairReq(code, 'ra-h3')).status, 200);
    await expectRefused(await pairReq(code, 'ra-h4'), 403, 'PAIRING_CODE_INVALID');
    await expectRefused(await pairReq('AAAA-BBBB', 'ra-h4'), 403, 'PAIRING_CODE_INVALID');
    revokeDevice(admin, 'ra-h2');
    admin.close();
    await expectRefused(await post(json({ transactions: own }), auth(otherToken)), 401, 'AUTH_INVALID');
  });

  it('failed authentication is rate-limited per address (429), the rest of the server keeps serving', async () => {
    let limited = 0;
    for (let i = 0; i < LIMITS.authFailuresPerMinute + 5; i++) {
      const res = await post(json({ transactions: own }), auth(`bad${'x'.repeat(40)}${i}`));
      if (res.status === 429) limited++;
      await res.body?.cancel();
    }
    assert.ok(limited >= 5, `${limited} refused with 429`);
    await expectRefused(await post(json({ transactions: own }), auth(token)), 429, 'RATE_LIMITED');
    assert.equal((await fetch(`${server.url}/api/v1/health`)).status, 200);
  });
});
