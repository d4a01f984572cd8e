/**
 * Device identity against a real site server process on 127.0.0.1, tried as a hostile device would: a code used
 * for another role or id, a takeover by re-pairing, a middleman writing for a producer the site never paired,
 * sequence squatting with random bytes, a forged transaction at highWater+1 made with the study keys, a payload
 * that breaks the model, and an unauthenticated body meant to stall the event loop. Each is refused with nothing
 * written, and the real device keeps syncing.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { WireEnvelope } from '../../shared/envelope.ts';
import { Study } from '../core/domain/study.ts';
import { envelopeAad, envelopeSignedBytes } from '../core/envelope.ts';
import { seed } from '../core/seed.ts';
import { Store } from '../core/store.ts';
import { outgoingWire, TestDirs } from '../core/testing/fixtures.ts';
import { pairWithSite, startServer, waitForStore, type ServerProc } from '../core/testing/processes.ts';
import { push } from '../sync/push.ts';
import { readServerLink } from '../sync/server-link.ts';
import { issuePairingCode, reinstateDevice, revokeDevice } from './auth.ts';

const ra = { user: 'ra' };

describe('device identity end to end', () => {
  let dirs: TestDirs;
  let server: ServerProc;
  let siteDir: string;

  before(async () => {
    dirs = new TestDirs();
    const site = dirs.store('site', 'site-id');
    siteDir = site.dir;
    site.close();
    server = await startServer(siteDir);
  });
  after(async () => {
    await server.kill('SIGKILL');
    dirs.cleanup();
  });

  const admin = <T>(fn: (s: Store) => T): T => {
    const s = Store.open(siteDir);
    try {
      return fn(s);
    } finally {
      s.close();
    }
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers },
  });
  const pushAs = (token: string, transactions: unknown[]) => post('/api/v1/push', { transactions }, { authorization: `Bearer ${token}` });
  const held = (producer: string) => admin((s) => ({
    rows: (s.sql.prepare('SELECT count(*) AS n FROM incoming_transaction WHERE producer = ?').get(producer) as { n: number }).n,
    cursor: s.sql.prepare('SELECT applied_seq FROM producer_cursor WHERE producer = ?').get(producer) as { applied_seq: number } | undefined,
  }));
  async function refused(res: Response, status: number, code: string): Promise<string> {
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    return body.error.message;
  }

  it('a code issued for a field laptop cannot pair as a middleman, nor for another id; it still pairs what it was issued for', async () => {
    const laptop = dirs.store('field', 'ra-10');
    const { code } = admin((s) => issuePairingCode(s, { deviceId: 'ra-10', role: 'field' }));
    const asMiddleman = await post('/api/v1/pair', { code, deviceId: 'ra-10', role: 'middleman', publicKey: laptop.signingKey.publicKey });
    assert.match(await refused(asMiddleman, 403, 'PAIRING_CODE_INVALID'), /issued for ra-10 as field, not for ra-10 as middleman/);
    await refused(await post('/api/v1/pair', { code, deviceId: 'ra-99', role: 'field' }), 403, 'PAIRING_CODE_INVALID');
    assert.equal(admin((s) => s.sql.prepare('SELECT count(*) AS n FROM device').get() as { n: number }).n, 0, 'nothing paired');
    const ok = await post('/api/v1/pair', { code, deviceId: 'ra-10', role: 'field', publicKey: laptop.signingKey.publicKey });
    assert.equal(ok.status, 200);
    const row = admin((s) => s.sql.prepare('SELECT role, public_key FROM device WHERE device_id = ?').get('ra-10') as { role: string; public_key: string });
    assert.deepEqual(row, { role: 'field', public_key: laptop.signingKey.publicKey }, 'the role of the code and the key presented are recorded');
  });

  it('re-pairing does not take a device over; replacing and reinstating are recorded admin actions', async () => {
    const real = dirs.store('field', 'ra-11');
    seed(real, 2, { seed: 11 });
    await pairWithSite(real, siteDir, server.url);
    const realToken = readServerLink(real.dir).token;
    // No second pairing code for a paired id; a code for another id does not pair this one.
    assert.throws(() => admin((s) => issuePairingCode(s, { deviceId: 'ra-11', role: 'field' })), /already paired/);
    const other = admin((s) => issuePairingCode(s, { deviceId: 'ra-12', role: 'field' }));
    await refused(await post('/api/v1/pair', { code: other.code, deviceId: 'ra-11', role: 'field' }), 403, 'PAIRING_CODE_INVALID');
    const r = await push(real);
    assert.equal(r.accepted, outgoingWire(real).length, 'the real laptop\'s token still works');
    // A revoked device stays revoked: no pairing code brings it back, only an admin's reinstate or replace.
    admin((s) => revokeDevice(s, 'ra-11', 'alice'));
    await refused(await pushAs(realToken, outgoingWire(real).slice(0, 1)), 401, 'AUTH_INVALID');
    assert.throws(() => admin((s) => issuePairingCode(s, { deviceId: 'ra-11', role: 'field' })), /already paired \(revoked\)/);
    admin((s) => reinstateDevice(s, 'ra-11', 'alice'));
    assert.equal((await pushAs(realToken, outgoingWire(real).slice(0, 1))).status, 200);
    // A new laptop for ra-11: an explicit replace code; the old machine's token stops working.
    const replacement = Store.init(dirs.path('ra-11-new'), 'field', 'ra-11');
    dirs.track(replacement);
    const rep = admin((s) => issuePairingCode(s, { deviceId: 'ra-11', role: 'field', purpose: 'replace', actor: 'alice' }));
    const ok = await post('/api/v1/pair', { code: rep.code, deviceId: 'ra-11', role: 'field', publicKey: replacement.signingKey.publicKey });
    assert.equal(ok.status, 200);
    await refused(await pushAs(realToken, outgoingWire(real).slice(0, 1)), 401, 'AUTH_INVALID');
    const events = admin((s) => s.sql.prepare("SELECT action, actor FROM device_event WHERE device_id = 'ra-11' ORDER BY id").all() as { action: string; actor: string }[]);
    assert.deepEqual(events.map((e) => e.action), ['code-issued', 'paired', 'revoked', 'reinstated', 'code-issued', 'replaced']);
    assert.deepEqual(events.filter((e) => ['revoked', 'reinstated'].includes(e.action)).map((e) => e.actor), ['alice', 'alice']);
  });

  it('a middleman cannot write for a producer the site never paired, nor squat or forge a paired laptop\'s sequence', async () => {
    const mm = dirs.store('middleman', 'mm-20');
    await pairWithSite(mm, siteDir, server.url);
    const mmToken = readServerLink(mm.dir).token;
    // 1. A laptop the site never paired (the middleman has the study keys and made it up).
    const ghost = dirs.store('field', 'ra-ghost');
    seed(ghost, 1, { seed: 20 });
    const ghostTx = outgoingWire(ghost);
    const g = await pushAs(mmToken, ghostTx);
    assert.equal(g.status, 200);
    const gBody = await g.json() as { accepted: string[]; rejected: { reason: string }[] };
    assert.deepEqual(gBody.accepted, []);
    assert.equal(gBody.rejected.length, ghostTx.length);
    assert.match(gBody.rejected[0]!.reason, /ra-ghost is not a device paired with this server/);
    assert.deepEqual(held('ra-ghost'), { rows: 0, cursor: undefined }, 'nothing stored, no cursor made');

    // 2. The real laptop ra-21 is paired (with its key); a middleman squats its #1–#3 with random bytes, unsigned
    //    and with a made-up signature.
    const real = dirs.store('field', 'ra-21');
    seed(real, 3, { seed: 21 });
    await pairWithSite(real, siteDir, server.url);
    const realTx = outgoingWire(real);
    const squat = realTx.slice(0, 3).map(({ sig: _sig, ...t }, i): WireEnvelope => ({ ...t, id: randomUUID(), tx: randomBytes(200).toString('base64'), ...(i === 0 ? {} : { sig: randomBytes(64).toString('base64url') }) }));
    const s = await pushAs(mmToken, squat);
    const sBody = await s.json() as { accepted: string[]; rejected: { reason: string }[] };
    assert.deepEqual(sBody.accepted, []);
    assert.match(sBody.rejected[0]!.reason, /unsigned, but ra-21 has a registered device key/);
    assert.match(sBody.rejected[1]!.reason, /signature does not verify under ra-21's device key/);

    // 3. A forged transaction at highWater+1, encrypted with the study keys (an impostor store claiming to be
    //    ra-21): valid ciphertext, signed by a key that is not ra-21's.
    const impostor = Store.init(dirs.path('ra-21-impostor'), 'field', 'ra-21');
    dirs.track(impostor);
    const { writeKeySetFile, KEYSET_FILE } = await import('../core/crypto/keyset.ts');
    writeKeySetFile(`${impostor.keyDir}/${KEYSET_FILE}`, dirs.keys);
    new Study(impostor).registerSubject({ firstName: 'Forged', lastName: 'Person', dob: '1980-01-01', identityNumber: '99999999', phone: null, gender: 'M', registrationDatetime: '2026-01-01T00:00:00.000Z' }, ra);
    const forged = { ...outgoingWire(impostor)[0]!, producerSeq: realTx.length + 1 };
    const f = await pushAs(mmToken, [forged]);
    assert.match(((await f.json()) as { rejected: { reason: string }[] }).rejected[0]!.reason, /signature does not verify/);
    assert.deepEqual(held('ra-21'), { rows: 0, cursor: undefined }, 'the real laptop\'s sequence is untouched');

    // The real laptop then syncs everything, all signatures verified.
    const r = await push(real);
    assert.equal(r.accepted, realTx.length);
    assert.equal(r.rejected.length, 0);
    await waitForStore(siteDir, (st) => st.incoming.gaps.length === 0 && st.incoming.pending === 0);
    const site = admin((st) => st.sql.prepare("SELECT count(*) AS n, sum(is_consumed) AS c, count(*) FILTER (WHERE sig IS NULL) AS unsigned FROM incoming_transaction WHERE producer = 'ra-21'").get() as { n: number; c: number; unsigned: number });
    assert.deepEqual(site, { n: realTx.length, c: realTx.length, unsigned: 0 });
  });

  it('a device paired before keys keeps syncing unsigned until its first contact registers its key; then unsigned is refused', async () => {
    const old = dirs.store('field', 'ra-30');
    seed(old, 2, { seed: 30 });
    // The old version's pairing: no public key presented.
    const { code } = admin((s) => issuePairingCode(s, { deviceId: 'ra-30', role: 'field' }));
    const paired = await post('/api/v1/pair', { code, deviceId: 'ra-30', role: 'field' });
    const { token } = await paired.json() as { token: string };
    const unsigned = outgoingWire(old).map(({ sig: _sig, ...rest }) => rest);
    const first = await pushAs(token, unsigned.slice(0, 3));
    assert.equal(((await first.json()) as { accepted: string[] }).accepted.length, 3, 'schema-1 envelopes of a paired device without a key');
    assert.equal(admin((s) => (s.sql.prepare("SELECT count(*) AS n FROM incoming_transaction WHERE producer = 'ra-30' AND sig IS NULL").get() as { n: number }).n), 3, 'kept as unsigned');
    // First contact of the upgraded app: the key travels with the token and is registered.
    const withKey = await post('/api/v1/push', { transactions: outgoingWire(old).slice(3, 5) }, { authorization: `Bearer ${token}`, 'x-edc-device-key': old.signingKey.publicKey });
    assert.equal(((await withKey.json()) as { accepted: string[] }).accepted.length, 2);
    assert.equal(admin((s) => (s.sql.prepare("SELECT public_key FROM device WHERE device_id = 'ra-30'").get() as { public_key: string }).public_key), old.signingKey.publicKey);
    const later = await pushAs(token, unsigned.slice(5, 6));
    assert.match(((await later.json()) as { rejected: { reason: string }[] }).rejected[0]!.reason, /unsigned, but ra-30 has a registered device key/);
    // Another key with the same token is refused.
    const other = dirs.store('field', 'ra-31');
    await refused(await post('/api/v1/push', { transactions: outgoingWire(old).slice(5, 6) }, { authorization: `Bearer ${token}`, 'x-edc-device-key': other.signingKey.publicKey }), 403, 'SIGNATURE_INVALID');
  });

  it('a payload that breaks the model is an error on that transaction only, the column named; nothing written', async () => {
    const hostile = dirs.store('field', 'ra-40');
    await pairWithSite(hostile, siteDir, server.url);
    const study = new Study(hostile);
    const good = study.registerSubject({ firstName: 'Lesego', lastName: 'Tau', dob: '1992-05-06', identityNumber: '55555555', phone: null, gender: 'F', registrationDatetime: '2026-01-02T00:00:00.000Z' }, ra);
    const keys = hostile.requireKeys();
    const base = outgoingWire(hostile)[0]!;
    const craft = (seq: number, patch: Record<string, unknown>): WireEnvelope => {
      const txPk = randomUUID();
      const record = { ...good, ...patch, id: txPk };
      const env = { id: randomUUID(), producer: 'ra-40', producer_seq: seq, tx_name: 'edc.subject', tx_pk: txPk, action: 'I' as const, schema_version: base.schemaVersion };
      const payload = { v: 1, record, baseRevision: 0, history: { id: randomUUID(), user: 'x', hostname: 'x', at: base.timestamp } };
      const { keyId, blob } = keys.encrypt(Buffer.from(JSON.stringify(payload)), envelopeAad(env));
      const sig = hostile.signingKey.sign(envelopeSignedBytes({ ...env, timestamp: base.timestamp, key_id: keyId, tx: blob }));
      return { id: env.id, producer: 'ra-40', producerSeq: seq, txName: 'edc.subject', txPk, action: 'I', timestamp: base.timestamp, schemaVersion: base.schemaVersion, keyId, tx: blob.toString('base64'), sig };
    };
    const bad = [
      craft(2, { first_name: 'Plaintext Name', subject_identifier: 'S01-BAD-00001' }),
      craft(3, { gender: 'Q', subject_identifier: 'S01-BAD-00002' }),
      craft(4, { registration_datetime: 'yesterday', subject_identifier: 'S01-BAD-00003' }),
    ];
    const token = readServerLink(hostile.dir).token;
    const res = await pushAs(token, [base, ...bad]);
    assert.equal(((await res.json()) as { accepted: string[] }).accepted.length, 4, 'stored: they are signed by their producer');
    await waitForStore(siteDir, (st) => st.incoming.error >= 3);
    const rows = admin((s) => s.sql.prepare("SELECT producer_seq, is_consumed, is_error, error FROM incoming_transaction WHERE producer = 'ra-40' ORDER BY producer_seq").all() as { producer_seq: number; is_consumed: number; is_error: number; error: string | null }[]);
    assert.equal(rows[0]!.is_error, 0, 'the good one applied');
    assert.match(rows[1]!.error!, /column first_name: not field ciphertext/);
    assert.match(rows[2]!.error!, /column gender/);
    assert.match(rows[3]!.error!, /column registration_datetime/);
    const subjects = admin((s) => (s.sql.prepare("SELECT subject_identifier FROM subject WHERE device_id = 'ra-40'").all() as { subject_identifier: string }[]).map((r) => r.subject_identifier));
    assert.deepEqual(subjects, [String(good.subject_identifier)]);
  });

  it('an unauthenticated body is refused before it is read: 401 while the upload is still open, and health answers meanwhile', async () => {
    // 29 KB of gzip that inflates to {"transactions":[{},{},… 10^7]}: never inflated, never parsed.
    const bomb = gzipSync(`{"transactions":[${'{},'.repeat(10_000_000)}{}]}`, { level: 9 });
    assert.ok(bomb.length < 200_000);
    const url = new URL(`${server.url}/api/v1/push`);
    const open = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: {
      'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length), authorization: `Bearer ${'x'.repeat(43)}`,
    } });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      open.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      open.on('error', reject);
    });
    open.write(bomb.subarray(0, 1024)); // the rest never comes: the server must answer without it
    // Three more at once, complete.
    const others = Array.from({ length: 3 }, () => fetch(url, { method: 'POST', body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${'y'.repeat(43)}` } }));
    const health = await fetch(`${server.url}/api/v1/health`);
    assert.equal(health.status, 200);
    const a = await answer;
    assert.equal(a.status, 401, 'refused although the body was never completed');
    assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, 'AUTH_INVALID');
    open.destroy();
    for (const r of await Promise.all(others)) assert.ok([401, 429].includes(r.status), String(r.status));
    // A body on a small route is capped at a few KB, before and after inflating.
    const bigPair = await fetch(`${server.url}/api/v1/pair`, { method: 'POST', body: gzipSync(JSON.stringify({ code: 'AAAA-BBBB', deviceId: 'ra-77', role: 'field', pad: 'x'.repeat(200_000) })), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    await refused(bigPair, 413, 'BODY_TOO_LARGE');
  });
});
