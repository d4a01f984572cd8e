/**
 * "Where is my data", end to end with real processes on 127.0.0.1: field laptops share, a middleman pulls and pushes
 * to a site server process, the site exports and sends files over SFTP to a real sshd, central imports, the site's
 * next send collects central's receipts; then each laptop's next contact (directly, or through the middleman) shows
 * "at central" for exactly the transactions central holds. A laptop whose pull was cut is owing on the site after
 * the middleman's visit; a laptop whose clock is 3 years back is flagged and its data arrives complete and in order.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deviceRowSchema, type DeviceRow } from '../../shared/fleet.ts';
import { statusSchema, type Status } from '../../shared/status.ts';
import { setTestClockOffset } from '../core/clock.ts';
import { hopSql } from '../core/fleet.ts';
import { seed } from '../core/seed.ts';
import { Store } from '../core/store.ts';
import { outgoingWire, snapshot, TestDirs } from '../core/testing/fixtures.ts';
import { spawnCli, startProxy, startServer, waitForStore, type Proc, type ServerProc } from '../core/testing/processes.ts';
import { startSshd, type Sshd } from '../core/testing/sshd.ts';
import { issuePairingCode } from '../server/auth.ts';
import { pair } from './server-link.ts';

const THREE_YEARS_MS = 3 * 365 * 24 * 3600_000;
const BACK = { EDC_SYNC_TEST_CLOCK_OFFSET_MS: String(-THREE_YEARS_MS) };

async function run(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const p = spawnCli(args, env);
  const code = await p.exited;
  assert.equal(code, 0, `edc-sync ${args.join(' ')} failed: ${p.stderr.join(' | ')}`);
  return p.stdout;
}

async function statusOf(dir: string, env: Record<string, string> = {}): Promise<Status> {
  return statusSchema.parse(JSON.parse((await run(['--data', dir, 'status', '--json'], env)).join('')));
}

async function devicesOf(dir: string): Promise<DeviceRow[]> {
  return deviceRowSchema.array().parse(JSON.parse((await run(['--data', dir, 'devices', 'list', '--json'])).join('')));
}

/** Central's ids of one producer, in producerSeq order. */
function heldAt(dir: string, producer: string): string[] {
  const s = Store.open(dir);
  try {
    return (s.sql.prepare('SELECT id FROM incoming_transaction WHERE producer = ? ORDER BY producer_seq').all(producer) as { id: string }[]).map((r) => r.id);
  } finally {
    s.close();
  }
}

/** A laptop's own transactions per hop, computed per transaction by the rule status uses. */
function hopsOf(dir: string, env: Record<string, string> = {}): Map<string, string[]> {
  const s = Store.open(dir);
  if (env.EDC_SYNC_TEST_CLOCK_OFFSET_MS) setTestClockOffset(s, Number(env.EDC_SYNC_TEST_CLOCK_OFFSET_MS));
  try {
    const { expr, params } = hopSql(s);
    const out = new Map<string, string[]>();
    for (const r of s.sql.prepare(`SELECT id, ${expr} AS hop FROM outgoing_transaction WHERE producer = ? ORDER BY producer_seq`).all(...params, s.deviceId) as { id: string; hop: string }[]) {
      out.set(r.hop, [...(out.get(r.hop) ?? []), r.id]);
    }
    return out;
  } finally {
    s.close();
  }
}

describe('where is my data: receipts down every hop, real processes', () => {
  let dirs: TestDirs;
  let sshd: Sshd;
  let server: ServerProc;
  const procs: Proc[] = [];
  let siteDir = '';
  let centralDir = '';
  before(async () => {
    dirs = new TestDirs();
    sshd = await startSshd();
  });
  after(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await server?.kill('SIGTERM');
    await sshd.stop();
    dirs.cleanup();
  });

  /** The laptop shares (a real `share` process); the middleman pulls (a real `pull` process), optionally through `via`. */
  async function visit(fieldDir: string, mmDir: string, opts: { env?: Record<string, string>; pageSize?: number; proxyKill?: RegExp } = {}): Promise<{ pulled: boolean }> {
    const share = spawnCli(['--data', fieldDir, 'share', '--host', '127.0.0.1', '--port', '0', '--json'], opts.env ?? {});
    procs.push(share);
    const { url, code } = JSON.parse(await share.waitFor(/^\{"url":/, 30_000)) as { url: string; code: string };
    const box: { pull?: Proc } = {};
    const proxy = opts.proxyKill ? await startProxy(url, async (_n, p) => { if (opts.proxyKill!.test(p)) await box.pull!.kill('SIGKILL'); }) : null;
    box.pull = spawnCli(['--data', mmDir, 'pull', '--from', proxy?.url ?? url, '--code', code, '--json', ...(opts.pageSize ? ['--page-size', String(opts.pageSize)] : [])]);
    const exit = await box.pull.exited;
    await proxy?.close();
    await share.kill('SIGTERM');
    if (!opts.proxyKill) assert.equal(exit, 0, `pull failed: ${box.pull.stderr.join(' | ')}`);
    return { pulled: exit === 0 };
  }

  it('field → middleman → site → SFTP → central; receipts back to the site, the middleman and the laptops', { timeout: 600_000 }, async () => {
    // Stores made here, then closed: from now on only processes open them (the test reads them between steps).
    const site = dirs.store('site', 'site-w');
    const remote = path.join(sshd.root, 'central-in');
    mkdirSync(remote, { recursive: true });
    site.saveSettings({
      ...site.settings, sftpHost: sshd.host, sftpPort: sshd.port, sftpUser: sshd.user, sftpPrivateKeyPath: sshd.clientKey,
      sftpHostKeyFingerprint: sshd.hostFingerprint, sftpTransactionDir: remote,
    });
    siteDir = site.dir;
    site.close();
    const central = dirs.store('central', 'central-w');
    central.saveSettings({ ...central.settings, importDir: remote });
    centralDir = central.dir;
    central.close();
    server = await startServer(siteDir);
    const pairWith = async (s: Store) => {
      const st = Store.open(siteDir);
      const { code } = issuePairingCode(st, { deviceId: s.deviceId, role: s.role });
      st.close();
      await pair(s, server.url, code);
    };
    const a = dirs.store('field', 'ra-w1'); // talks to the site directly, too
    const b = dirs.store('field', 'ra-w2'); // its pull is cut: owing
    const c = dirs.store('field', 'ra-w3'); // never talks to the site; clock 3 years back
    const mm = dirs.store('middleman', 'mm-w');
    setTestClockOffset(c, -THREE_YEARS_MS);
    seed(a, 6, { seed: 1 });
    seed(b, 12, { seed: 2 });
    seed(c, 8, { seed: 3 });
    // Every device whose data reaches the site is paired there once (the trust model: the site knows every producer's
    // key); B and C never sync with the site afterwards.
    for (const s of [a, b, c, mm]) await pairWith(s);
    const made = { a: outgoingWire(a).length, b: outgoingWire(b).length, c: outgoingWire(c).length };
    const cWire = outgoingWire(c);
    const cSnap = snapshot(c);
    for (const s of [a, b, c, mm]) s.close();

    // 1. The driver's round: A and C completely; B's pull is cut after its first page of 25 (kill -9 of the middleman).
    await visit(a.dir, mm.dir);
    await visit(c.dir, mm.dir, { env: BACK });
    const cut = await visit(b.dir, mm.dir, { pageSize: 25, proxyKill: /\/share\/v1\/transactions\?after=25&/ });
    assert.equal(cut.pulled, false, 'the pull of B was cut');
    assert.deepEqual((await statusOf(a.dir)).outgoing.hops, { here: 0, middleman: made.a, site: 0, central: 0 });
    assert.equal((await statusOf(b.dir)).outgoing.hops.middleman, 25);

    // 2. The middleman pushes to the site: B is owing there, C's clock flagged, A owes nothing.
    await run(['--data', mm.dir, 'push', '--json']);
    await waitForStore(siteDir, (s) => s.incoming.consumed === made.a + made.c + 25, 120_000);
    let onSite = await devicesOf(siteDir);
    const siteRow = (id: string) => onSite.find((d) => d.deviceId === id)!;
    assert.equal(siteRow('ra-w2').made, made.b);
    assert.equal(siteRow('ra-w2').owes, made.b - 25, 'B made changes the site has not received');
    assert.ok(siteRow('ra-w2').flags.includes('owing'));
    assert.equal(siteRow('ra-w2').lastVia, 'middleman');
    assert.ok(siteRow('ra-w3').flags.includes('clock-drift'));
    assert.ok(Math.abs(siteRow('ra-w3').clockSkewMs! + THREE_YEARS_MS) < 10 * 60_000, `C's skew is about −3 years (${siteRow('ra-w3').clockSkewMs})`);
    assert.ok(Date.parse(siteRow('ra-w3').lastSeenAt!) > Date.now() - 3600_000, 'last seen by the site\'s clock, not C\'s');
    assert.equal(siteRow('ra-w1').owes, 0);
    assert.equal(siteRow('mm-w').role, 'middleman');
    assert.deepEqual(onSite.slice(0, 2).map((d) => d.deviceId).sort(), ['ra-w2', 'ra-w3'], 'those needing attention on top');

    // 3. Site → central by SFTP; central imports; the site's next send collects the receipts.
    await run(['--data', siteDir, 'export', '--json']);
    await run(['--data', siteDir, 'send', '--json']);
    await run(['--data', centralDir, 'import', '--json']);
    await run(['--data', siteDir, 'send', '--json']);
    onSite = await devicesOf(siteDir);
    assert.equal(siteRow('ra-w1').atCentral, made.a);
    assert.equal(siteRow('ra-w3').atCentral, made.c);
    assert.equal(siteRow('ra-w2').atCentral, 25);
    const onCentral = await devicesOf(centralDir);
    const centralRow = (id: string) => onCentral.find((d) => d.deviceId === id)!;
    assert.equal(centralRow('ra-w2').owes, made.b - 25, 'central knows B owes, from the site\'s manifest');
    assert.ok(centralRow('ra-w3').flags.includes('clock-drift'), 'central flags C from the skew the middleman measured');
    assert.equal(centralRow('site-w').role, 'site');

    // 4. A changes more and syncs directly: its next contact says what central holds, exactly.
    const a2 = Store.open(a.dir);
    seed(a2, 2, { seed: 11 });
    const madeA = outgoingWire(a2).length;
    a2.close();
    await run(['--data', a.dir, 'push', '--json']);
    const aHops = (await statusOf(a.dir)).outgoing.hops;
    assert.deepEqual(aHops, { here: 0, middleman: 0, site: madeA - made.a, central: made.a });
    assert.deepEqual(hopsOf(a.dir).get('central'), heldAt(centralDir, 'ra-w1'), 'at central: exactly the transactions central holds');

    // 5. The middleman's next contact learns it for the laptops it carries; its next visit hands it to them.
    await run(['--data', mm.dir, 'push', '--json']);
    await visit(c.dir, mm.dir, { env: BACK });
    const cHops = (await statusOf(c.dir, BACK)).outgoing.hops;
    assert.deepEqual(cHops, { here: 0, middleman: 0, site: 0, central: made.c });
    assert.deepEqual(hopsOf(c.dir, BACK).get('central'), heldAt(centralDir, 'ra-w3'));
    await visit(b.dir, mm.dir);
    const bHops = (await statusOf(b.dir)).outgoing.hops;
    assert.deepEqual(bHops, { here: 0, middleman: made.b - 25, site: 0, central: 25 });
    assert.deepEqual(hopsOf(b.dir).get('central'), heldAt(centralDir, 'ra-w2'));

    // 6. C's data (its clock 3 years back) is at central complete, in order, applied, identical.
    assert.deepEqual(heldAt(centralDir, 'ra-w3'), cWire.map((t) => t.id));
    const cs = Store.open(centralDir);
    try {
      const cursor = cs.sql.prepare("SELECT applied_seq FROM producer_cursor WHERE producer = 'ra-w3'").get() as { applied_seq: number };
      assert.equal(cursor.applied_seq, made.c);
      const bad = cs.sql.prepare("SELECT count(*) AS n FROM incoming_transaction WHERE producer = 'ra-w3' AND (is_error = 1 OR is_conflict = 1 OR is_consumed = 0)").get() as { n: number };
      assert.equal(bad.n, 0);
      const there = snapshot(cs);
      for (const [model, rows] of Object.entries(cSnap)) {
        const ids = new Set((there[model] as { id: string }[]).map((r) => r.id));
        for (const r of rows as { id: string }[]) assert.ok(ids.has(r.id), `${model} ${r.id} at central`);
      }
    } finally {
      cs.close();
    }

    // 7. The middleman's own view: the laptops it visited today.
    const today = deviceRowSchema.array().parse(JSON.parse((await run(['--data', mm.dir, 'devices', 'list', '--today', '--json'])).join('')));
    assert.deepEqual(today.map((d) => d.deviceId).sort(), ['ra-w1', 'ra-w2', 'ra-w3']);
  });
});
