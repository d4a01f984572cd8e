/**
 * A middleman that carries but cannot read PII (issue 10, deliverable 8). The site exports the carrier key set
 * (`keys export --for middleman`, a real CLI process); the middleman imports it, pulls a field laptop's whole day
 * (24 subjects: consent, visits, CRFs, requisitions, corrections), reconciles its tubes, and pushes everything to a
 * real site server on 127.0.0.1. The site's records equal the laptop's, decrypted there; no plaintext name, identity
 * number, phone or birth date of any subject (current or corrected away) is in any file of the middleman's data
 * folder (the -wal included) nor in what its API answers for pending.open. The carrier set is refused on a field
 * laptop and by `keys rotate`; a middleman given the full set is warned at `keys import` and in `status`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callsAs } from '../app/testing.ts';
import { en } from '../../shared/i18n/en.ts';
import { statusSchema } from '../../shared/status.ts';
import { createBackend, type Backend, type Principal } from '../app/backend.ts';
import { KEYSET_FILE } from '../core/crypto/keyset.ts';
import { MODELS } from '../core/domain/registry.ts';
import { seed } from '../core/seed.ts';
import type { Store } from '../core/store.ts';
import { snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { spawnCli } from '../core/testing/processes.ts';
import { issuePairingCode } from '../server/auth.ts';
import { startSiteServer, type SiteServer } from '../server/site-server.ts';
import { pull } from './pull.ts';
import { push } from './push.ts';
import { pair } from './server-link.ts';
import { startShare } from './share.ts';

const DRIVER: Principal = { username: 'driver', role: null };

const api = (backend: Backend, who: Principal) => callsAs(backend, who).call;

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args);
  const code = await p.exited;
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}

/** Every file under dir (recursively), as bytes. */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  const out: { file: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ file: p, bytes: readFileSync(p) });
  }
  return out;
}

/**
 * Every plaintext PII value the laptop ever wrote (current values and those corrected away), from its own audit
 * history decrypted there with the full key set.
 */
function plaintextPii(laptop: Store): Set<string> {
  const keys = laptop.requireKeys();
  const values = new Set<string>();
  for (const m of MODELS.values()) {
    if (m.pii.length === 0) continue;
    for (const h of laptop.sql.prepare('SELECT changes FROM audit_history WHERE tx_name = ?').all(m.txName) as { changes: string }[]) {
      const changes = JSON.parse(h.changes) as Record<string, [unknown, unknown]>;
      for (const p of m.pii) {
        for (const v of changes[p.sql] ?? []) if (typeof v === 'string') values.add(keys.decryptField(p.sql, v));
      }
    }
  }
  return values;
}

describe('a middleman with the carrier key set carries, checks and reconciles but never reads participants\' details', () => {
  let dirs: TestDirs;
  let site: Store;
  let server: SiteServer;
  const backends: Backend[] = [];
  before(async () => {
    dirs = new TestDirs();
    site = dirs.store('site', 'site-p');
    server = await startSiteServer(site, '127.0.0.1', 0);
  });
  after(async () => {
    for (const b of backends) await b.close();
    await server.close();
    dirs.cleanup();
  });
  const pairWith = async (s: Store) => { await pair(s, server.url, issuePairingCode(site, { deviceId: s.deviceId, role: s.role }).code); };
  const backendOf = (s: Store) => {
    const b = createBackend({ dataDir: s.dir, host: 'desktop', emit: () => {}, store: s });
    backends.push(b);
    return b;
  };

  it('field → middleman (carrier keys) → site: a full day arrives whole, and nothing of it is readable on the middleman', { timeout: 300_000 }, async () => {
    // The site's administrator exports the middleman's key set with the real command.
    const carrierFile = dirs.path('carrier.keys');
    const exported = await cli(['--data', site.dir, 'keys', 'export', '--for', 'middleman', '--out', carrierFile]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /for a middleman \(without the keys for participants' details\)/);
    const carrierJson = JSON.parse(readFileSync(carrierFile, 'utf8')) as Record<string, unknown>;
    assert.equal(carrierJson.scope, 'carrier');
    assert.equal('piiKeys' in carrierJson || 'lookupKey' in carrierJson, false);

    // A field laptop refuses it; the middleman takes it (and is not warned).
    const laptop = dirs.store('field', 'ra-p19'); // seed 5 on this id: no subject has a name shorter than 4 letters (see below)
    const refused = await cli(['--data', laptop.dir, 'keys', 'import', carrierFile]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /this key set cannot read participants' details: a field laptop needs the full key set/);
    assert.equal(laptop.requireKeys().canReadPii, true, 'the laptop keeps its full key set');

    const mm = dirs.store('middleman', 'mm-p', { keys: null });
    const imported = await cli(['--data', mm.dir, 'keys', 'import', carrierFile]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /middleman's key set: participants' details stay protected here/);
    assert.doesNotMatch(imported.stderr, /warning/);
    const rotate = await cli(['--data', mm.dir, 'keys', 'rotate']);
    assert.notEqual(rotate.code, 0);
    assert.match(rotate.stderr, /cannot be rotated.*\[KEYS_CARRIER\]$/s);
    const status = statusSchema.parse(JSON.parse((await cli(['--data', mm.dir, 'status', '--json'])).stdout));
    assert.deepEqual([status.keyScope, status.keysWarning], ['carrier', false]);

    // A full day on the laptop.
    seed(laptop, 24, { seed: 5 });
    await pairWith(laptop);
    await pairWith(mm);
    const laptopSnap = snapshot(laptop);
    assert.equal(laptopSnap['edc.subject']!.length, 24);
    const pii = plaintextPii(laptop);
    for (const s of laptopSnap['edc.subject']!) {
      for (const c of ['first_name', 'last_name', 'identity_number', 'dob'] as const) assert.ok(pii.has(String(s[c])), `${c} collected`);
    }
    // Values of 4+ characters: a 3-letter name could turn up by chance inside ciphertext bytes.
    assert.ok([...pii].every((v) => v.length >= 4), 'no seeded value is shorter than 4 characters');
    const made = (laptop.sql.prepare('SELECT count(*) AS n FROM outgoing_transaction').get() as { n: number }).n;

    // The driver pulls, reconciles the tubes and pushes at the site.
    const share = await startShare(laptop, { host: '127.0.0.1', port: 0 });
    const pulled = await pull(mm, share.url, share.code, { pageSize: 50 });
    await share.closed;
    assert.equal(pulled.received, made);
    assert.deepEqual(pulled.rejected, []);
    assert.equal(pulled.consumed.errors, 0, 'every payload decrypts, verifies and applies with the carrier set');
    assert.equal(pulled.consumed.conflicts, 0);
    const driver = api(backendOf(mm), DRIVER);
    const expected = await driver('reconciliation.expected', {});
    const tubes = (laptop.sql.prepare('SELECT requisition_identifier AS id FROM specimen_requisition').all() as { id: string }[]).map((r) => r.id).sort();
    assert.ok(tubes.length >= 24, `${tubes.length} tubes`);
    assert.deepEqual(expected.specimens.map((x) => x.requisitionIdentifier).sort(), tubes);
    const saved = await driver('reconciliation.save', { scope: expected.scope!, location: 'truck', scanned: tubes, reasons: {}, missingConfirmed: 0 });
    assert.match(saved.custodyIdentifier, /^C-MM-P-/);

    // What the middleman's screens show: every record it carries opens, PII columns "protected", no plaintext.
    const forwarded: string[] = [];
    for (let page = 0; ; page++) {
      const list = await driver('pending.list', { source: 'forwarding', state: 'all', page, pageSize: 200 });
      forwarded.push(...list.rows.map((r) => r.id));
      if (list.rows.length < 200) break;
    }
    assert.equal(forwarded.length, made);
    let subjectsOpened = 0;
    let correctionsOpened = 0;
    const answers: string[] = [];
    for (const id of forwarded) {
      const opened = await driver('pending.open', { id });
      answers.push(JSON.stringify(opened));
      if (opened.row.txName !== 'edc.subject' || opened.row.action === 'D') continue;
      subjectsOpened++;
      // The Consumed batches inspector: the record's whole history, PII columns protected there too.
      const inspected = await driver('transactions.inspect', { id });
      answers.push(JSON.stringify(inspected));
      assert.equal(inspected.contentError, null);
      assert.ok(inspected.protectedFields.includes('identity_number'), 'the history\'s PII columns are protected');
      for (const h of inspected.history) assert.deepEqual(h.changes?.identity_number ?? [null, null], [null, null]);
      const record = opened.content.record as Record<string, unknown>;
      const hidden = opened.content.protected as string[];
      for (const f of ['firstName', 'lastName', 'identityNumber', 'dob']) {
        if (opened.row.action === 'I') assert.ok(hidden.includes(f), `${f} protected`);
        assert.equal(record[f] ?? null, null, `${f} carries no value`);
      }
      assert.ok(typeof record.subjectIdentifier === 'string' && record.subjectIdentifier.length > 0, 'the non-PII columns are readable');
      const changes = (opened.content.history as { changes?: Record<string, [unknown, unknown]> } | null)?.changes ?? {};
      if (opened.row.action === 'U' && 'phone' in changes) {
        correctionsOpened++;
        assert.deepEqual(changes.phone, [null, null], 'a corrected phone: neither value');
        assert.ok(hidden.includes('phone'));
      }
    }
    assert.ok(correctionsOpened > 0, 'the day has phone corrections, opened as protected');
    assert.ok(subjectsOpened >= 24);
    const apiText = answers.join('\n');
    for (const v of pii) assert.ok(!apiText.includes(v), `pending.open and transactions.inspect answers never hold "${v}"`);
    assert.equal((await driver('conflicts.list', { includeResolved: true })).conflicts.length, 0);

    // Forward everything to the site, unchanged; the site decrypts it with the full key set.
    await push(mm, { actor: { user: 'driver' } });
    await server.background!.idle();
    const siteSnap = snapshot(site);
    for (const [model, rows] of Object.entries(laptopSnap)) {
      const there = new Map((siteSnap[model] ?? []).map((r) => [String(r.id), r]));
      for (const r of rows) assert.deepEqual(there.get(String(r.id)), r, `${model} ${String(r.id)} equal at the site`);
    }
    const atSite = site.sql.prepare("SELECT count(*) AS n FROM incoming_transaction WHERE producer = 'ra-p19' AND is_consumed = 1").get() as { n: number };
    assert.equal(atSite.n, made, 'every transaction of the laptop consumed at the site');
    const custody = site.sql.prepare("SELECT count(*) AS n FROM specimen_custody WHERE custody_identifier = ?").get(saved.custodyIdentifier) as { n: number };
    assert.equal(custody.n, 1, 'the driver\'s reconciliation reached the site');
    const siteByMm = site.sql.prepare('SELECT id, tx, sig FROM incoming_transaction WHERE producer = ? ORDER BY producer_seq').all('ra-p19') as { id: string; tx: Buffer; sig: string }[];
    const onLaptop = laptop.sql.prepare('SELECT id, tx, sig FROM outgoing_transaction ORDER BY producer_seq').all() as { id: string; tx: Buffer; sig: string }[];
    assert.deepEqual(siteByMm, onLaptop, 'forwarded unchanged: same ids, ciphertext and signatures');

    // No plaintext personal detail anywhere in the middleman's data folder (its store is still open: -wal and -shm too).
    const files = filesUnder(mm.dir);
    assert.ok(files.some((f) => f.file.endsWith('-wal')), 'the write-ahead log is among the files read');
    assert.ok(files.some((f) => f.file.endsWith(KEYSET_FILE)));
    for (const v of pii) {
      const needle = Buffer.from(v, 'utf8');
      for (const f of files) assert.equal(f.bytes.indexOf(needle), -1, `"${v}" found in ${path.relative(mm.dir, f.file)}`);
    }
    // The search does see the rows' plain columns (so it would see a plaintext PII column): the subject identifiers.
    for (const s of laptopSnap['edc.subject']!) {
      assert.ok(files.some((f) => f.bytes.includes(Buffer.from(String(s.subject_identifier)))), `${String(s.subject_identifier)} is found`);
    }
    // The same call on the site, with the full key set, reads the details.
    const lab = api(backendOf(site), { username: 'dm', role: 'data-manager' });
    const subjectTx = forwarded.find((id) => (site.sql.prepare('SELECT tx_name FROM incoming_transaction WHERE id = ?').get(id) as { tx_name: string }).tx_name === 'edc.subject')!;
    const atSiteOpen = await lab('pending.open', { id: subjectTx });
    assert.deepEqual(atSiteOpen.content.protected, []);
    assert.ok(pii.has(String((atSiteOpen.content.record as Record<string, unknown>).identityNumber)), 'the site reads it');
  });

  it('a middleman given the full key set works but is warned at keys import and in status', { timeout: 120_000 }, async () => {
    const fullFile = dirs.path('full.keys');
    assert.equal((await cli(['--data', site.dir, 'keys', 'export', '--out', fullFile])).code, 0);
    const mm = dirs.store('middleman', 'mm-full', { keys: null });
    const imported = await cli(['--data', mm.dir, 'keys', 'import', fullFile]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.ok(imported.stderr.includes(`warning: ${en.device.keysFullOnMiddleman}`), imported.stderr);
    const st = await cli(['--data', mm.dir, 'status']);
    assert.ok(st.stderr.includes(en.device.keysFullOnMiddleman), st.stderr);
    const json = statusSchema.parse(JSON.parse((await cli(['--data', mm.dir, 'status', '--json'])).stdout));
    assert.deepEqual([json.keyScope, json.keysWarning], ['full', true]);
    const info = await api(backendOf(mm), DRIVER)('app.info', {});
    assert.equal(info.keyScope, 'full');
    // Importing the carrier set then removes the PII keys it held: the warning goes.
    const carrierFile = dirs.path('carrier2.keys');
    assert.equal((await cli(['--data', site.dir, 'keys', 'export', '--for', 'middleman', '--out', carrierFile])).code, 0);
    const fixed = await cli(['--data', mm.dir, 'keys', 'import', carrierFile]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.doesNotMatch(fixed.stderr, /warning/);
    const after = statusSchema.parse(JSON.parse((await cli(['--data', mm.dir, 'status', '--json'])).stdout));
    assert.deepEqual([after.keyScope, after.keysWarning], ['carrier', false]);
    assert.equal(JSON.parse(readFileSync(path.join(mm.keyDir, KEYSET_FILE), 'utf8')).piiKeys, undefined);
  });
});
