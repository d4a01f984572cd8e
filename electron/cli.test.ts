import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { statusSchema } from '../shared/status.ts';
import { main } from './cli.ts';
import { Store } from './core/store.ts';
import { pairAt } from './core/testing/fixtures.ts';
import { freePort, spawnCli } from './core/testing/processes.ts';

const BIN = fileURLToPath(new URL('../scripts/edc-sync.mjs', import.meta.url));

interface Run { code: number; out: string[]; err: string[] }

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'edc-sync', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: { EDC_SYNC_USER: 'tester', ...env }, readSecret: async () => 'a password from stdin' });
  return { code, out, err };
}

/** Names, sizes and modification times of every file below dir: "nothing changed" means this is equal. */
function fingerprint(dir: string): string {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(d, e.name);
    return e.isDirectory() ? walk(p) : [`${path.relative(dir, p)}:${statSync(p).size}:${statSync(p).mtimeMs}`];
  });
  return walk(dir).sort().join('\n');
}

/** The administrator pairs the device in `deviceDir` with the server in `serverDir` (as `pairing-code` and `pair` do). */
function pairStores(serverDir: string, deviceDir: string): void {
  const server = Store.open(serverDir);
  const device = Store.open(deviceDir);
  try {
    pairAt(server, device);
  } finally {
    device.close();
    server.close();
  }
}

describe('cli', () => {
  let root: string;
  before(() => { root = mkdtempSync(path.join(os.tmpdir(), 'edc-cli-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('init, keys, seed, copy, consume and status --json work together', async () => {
    const field = path.join(root, 'ra-01');
    const site = path.join(root, 'site');
    assert.equal((await run(['--data', field, 'init', '--role', 'field', '--device-id', 'ra-01'])).code, 0);
    assert.equal((await run(['--data', field, 'keys', 'create'])).code, 0);
    const again = await run(['--data', field, 'keys', 'create']);
    assert.equal(again.code, 1);
    assert.match(again.err[0]!, /\[KEYS_EXIST\]$/);
    assert.equal((await run(['--data', field, 'keys', 'export', '--out', path.join(root, 'study.keys')])).code, 0);
    assert.equal((statSync(path.join(root, 'study.keys')).mode & 0o777), 0o600, 'exported key file is private');
    const seeded = await run(['--data', field, 'seed', '--subjects', '10']);
    assert.equal(seeded.code, 0);
    assert.match(seeded.out[0]!, /^seeded 10 subjects \(\d+ changes\)$/);
    assert.ok(seeded.err.some((l) => l === 'seed: 10/10'), 'progress on stderr');
    assert.equal((await run(['init', '--role', 'site', '--device-id', 'site-01'], { EDC_SYNC_DATA: site })).code, 0);
    assert.equal((await run(['--data', site, 'keys', 'import', path.join(root, 'study.keys')])).code, 0);
    // A site copies only from devices paired with it.
    const refused = await run(['--data', site, 'copy', '--from', field]);
    assert.match(refused.out[0]!, /^copied 0 new transaction\(s\), 0 duplicate\(s\) ignored, \d+ rejected: ra-01 is not a device paired with this server; nothing of it stored/);
    pairStores(site, field);
    const copied = await run(['--data', site, 'copy', '--from', field, '--json']);
    assert.equal(copied.code, 0);
    const c = JSON.parse(copied.out[0]!) as { accepted: number; duplicates: number };
    assert.ok(c.accepted > 50);
    const consumed = await run(['--data', site, 'consume', '--json']);
    assert.equal(JSON.parse(consumed.out[0]!).applied, c.accepted);
    const fieldStatus = statusSchema.parse(JSON.parse((await run(['--data', field, 'status', '--json'])).out[0]!));
    assert.equal(fieldStatus.outgoing.total, c.accepted);
    assert.equal(fieldStatus.outgoing.pendingServer, c.accepted);
    assert.equal(fieldStatus.lastSync, null);
    const siteStatus = statusSchema.parse(JSON.parse((await run(['--data', site, 'status', '--json'])).out[0]!));
    assert.deepEqual(Object.keys(siteStatus).slice(0, 6), ['role', 'deviceId', 'outgoing', 'incoming', 'records', 'lastSync']);
    assert.equal(siteStatus.incoming.consumed, c.accepted);
    assert.equal(siteStatus.records['edc.subject'], 10);
    assert.deepEqual(siteStatus.records, fieldStatus.records);
    const fieldConsume = await run(['--data', field, 'consume']);
    assert.equal(fieldConsume.code, 1);
    assert.match(fieldConsume.err[0]!, /field device does not consume.*\[ROLE_NOT_ALLOWED\]$/);
  });

  it('config get/set validates and keeps the file valid', async () => {
    const dir = path.join(root, 'cfg');
    await run(['--data', dir, 'init', '--role', 'site', '--device-id', 'site-02']);
    assert.equal((await run(['--data', dir, 'config', 'set', 'remotePort', '2222'])).code, 0);
    assert.equal((await run(['--data', dir, 'config', 'get', 'remotePort'])).out[0], '2222');
    assert.equal((await run(['--data', dir, 'config', 'set', 'remoteServerHost', 'central.example.org'])).code, 0);
    assert.equal((await run(['--data', dir, 'config', 'set', 'allowModelSerialization', 'false'])).code, 0);
    assert.equal((await run(['--data', dir, 'config', 'set', 'knownProducers', 'site-01, site-02'])).code, 0);
    assert.equal((await run(['--data', dir, 'config', 'get', 'knownProducers'])).out[0], '["site-01","site-02"]');
    const before = readFileSync(path.join(dir, 'settings.json'), 'utf8');
    for (const [args, code] of [
      [['config', 'set', 'remotePort', '99999'], 'SETTING_VALUE_INVALID'],
      [['config', 'set', 'allowModelSerialization', 'maybe'], 'SETTING_VALUE_INVALID'],
      [['config', 'set', 'role', 'central'], 'SETTING_VALUE_INVALID'],
      [['config', 'set', 'colour', 'blue'], 'SETTING_UNKNOWN'],
      [['config', 'get', 'colour'], 'SETTING_UNKNOWN'],
      [['config', 'set', 'knownProducers', 'site-01,not a device!'], 'SETTING_VALUE_INVALID'],
      [['config', 'set', 'siteCode', 'lower'], 'SETTING_VALUE_INVALID'],
    ] as const) {
      const r = await run(['--data', dir, ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.err.length, 1);
      assert.ok(r.err[0]!.endsWith(`[${code}]`), r.err[0]);
    }
    assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), before);
    const all = await run(['--data', dir, 'config', 'get']);
    assert.ok(all.out.includes('allowModelSerialization=false'));
    assert.ok(all.out.includes('sftpHost="central.example.org"'), 'the original\'s remoteServerHost is the SFTP target\'s host');
  });

  it('bad input gets one line, a non-zero exit, and changes nothing', async () => {
    const dir = path.join(root, 'bad');
    await run(['--data', dir, 'init', '--role', 'site', '--device-id', 'site-03']);
    await run(['--data', dir, 'keys', 'create']);
    const snapshot = fingerprint(dir);
    const cases: [string[], RegExp][] = [
      [['--data', path.join(root, 'other'), 'init', '--role', 'boss', '--device-id', 'x-1'], /invalid\. Allowed choices are field, middleman, site, central/],
      [['--data', path.join(root, 'other'), 'init', '--role', 'field', '--device-id', '-bad id-'], /\[DEVICE_ID_INVALID\]$/],
      [['--data', dir, 'init', '--role', 'field', '--device-id', 'ra-09'], /\[DATA_DIR_EXISTS\]$/],
      [['--data', path.join(root, 'missing'), 'status'], /\[DATA_DIR_MISSING\]$/],
      [['--data', dir, 'seed', '--subjects', 'lots'], /\[INPUT_INVALID\]$/],
      [['--data', dir, 'copy', '--from', path.join(root, 'missing')], /\[SOURCE_STORE_INVALID\]$/],
      [['--data', dir, 'copy', '--from', dir], /\[SOURCE_STORE_INVALID\]$/],
      [['--data', dir, 'keys', 'import', path.join(root, 'missing.keys')], /\[KEYS_UNREADABLE\]$/],
      [['--data', dir, 'nonsense'], /unknown command/],
    ];
    writeFileSync(path.join(root, 'garbage.keys'), '{"format":"edc-sync-keyset","version":1}');
    cases.push([['--data', dir, 'keys', 'import', path.join(root, 'garbage.keys')], /\[KEYS_UNREADABLE\]$/]);
    await run(['--data', path.join(root, 'foreign'), 'init', '--role', 'site', '--device-id', 'site-04']);
    await run(['--data', path.join(root, 'foreign'), 'keys', 'create']);
    await run(['--data', path.join(root, 'foreign'), 'keys', 'export', '--out', path.join(root, 'foreign2.keys')]);
    cases.push([['--data', dir, 'keys', 'import', path.join(root, 'foreign2.keys')], /another study.*\[KEYS_FOREIGN\]$/]);
    for (const [args, pattern] of cases) {
      const r = await run(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.err.length, 1, `${args.join(' ')}: ${r.err.join(' | ')}`);
      assert.match(r.err[0]!, pattern);
      assert.equal(r.out.length, 0);
    }
    assert.equal(fingerprint(dir), snapshot, 'nothing in the data folder changed');

    // A corrupt settings file and an unreadable key file: refused, and the store is not touched.
    const settingsFile = path.join(dir, 'settings.json');
    const good = readFileSync(settingsFile, 'utf8');
    writeFileSync(settingsFile, '{"role": "field", ');
    const corrupt = await run(['--data', dir, 'status']);
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.err[0]!, /settings\.json is not readable JSON.*\[SETTINGS_INVALID\]$/);
    writeFileSync(settingsFile, JSON.stringify({ role: 'boss', deviceId: 'site-03' }));
    assert.match((await run(['--data', dir, 'status'])).err[0]!, /role: .*\[SETTINGS_INVALID\]$/);
    writeFileSync(settingsFile, good);
    writeFileSync(path.join(dir, 'keys', 'keyset.json'), 'garbage');
    const keyless = await run(['--data', dir, 'consume']);
    assert.equal(keyless.code, 1);
    assert.match(keyless.err[0]!, /\[KEYS_UNREADABLE\]$/);
  });

  it('sync commands refuse bad input and wrong roles with one line', async () => {
    const field = path.join(root, 'sync-field');
    const site = path.join(root, 'sync-site');
    await run(['--data', field, 'init', '--role', 'field', '--device-id', 'ra-31']);
    await run(['--data', site, 'init', '--role', 'site', '--device-id', 'site-31']);
    const cases: [string[], RegExp][] = [
      [['--data', field, 'push'], /not paired.*\[NOT_PAIRED\]$/],
      [['--data', field, 'pair', '--server', 'not a url', '--code', 'ABCD-EFGH'], /\[INPUT_INVALID\]$/],
      [['--data', field, 'pair', '--server', 'http://127.0.0.1:1', '--code', 'ABCD-EFGH'], /cannot be reached.*\[SERVER_UNREACHABLE\]$/],
      [['--data', field, 'server', '--port', '0'], /No web UI account.*user add.*\[NO_ACCOUNTS\]$/],
      [['--data', field, 'pairing-code', '--device-id', 'ra-32', '--role', 'field'], /\[ROLE_NOT_ALLOWED\]$/],
      [['--data', field, 'pull', '--from', 'http://127.0.0.1:1', '--code', 'X'], /middleman devices do.*\[ROLE_NOT_ALLOWED\]$/],
      [['--data', site, 'push'], /export, send.*\[ROLE_NOT_ALLOWED\]$/],
      [['--data', site, 'share'], /\[ROLE_NOT_ALLOWED\]$/],
      [['--data', site, 'server', '--port', '70000'], /\[INPUT_INVALID\]$/],
      [['--data', site, 'devices', 'revoke', 'ra-99'], /\[RECORD_NOT_FOUND\]$/],
      [['--data', field, 'import'], /site and central servers do.*\[ROLE_NOT_ALLOWED\]$/],
      [['--data', site, 'import', '--dir', path.join(root, 'no-such-dir')], /no key set.*\[KEYS_MISSING\]$/],
      [['--data', site, 'send'], /sftpHost.*\[SFTP_NOT_CONFIGURED\]$/],
      [['--data', site, 'import', '--watch', 'often'], /\[INPUT_INVALID\]$/],
      [['--data', field, 'receipts', '--dir', path.join(root, 'no-such-dir')], /\[IO_FAILED\]$/],
      [['--data', site, 'resolve-conflict', '0190d4c8-0000-7000-8000-000000000000'], /exactly one of.*\[INPUT_INVALID\]$/],
      [['--data', site, 'resolve-conflict', '0190d4c8-0000-7000-8000-000000000000', '--keep-here'], /no open conflict.*\[RECORD_NOT_FOUND\]$/],
      [['--data', field, 'resolve-conflict', '0190d4c8-0000-7000-8000-000000000000', '--take-incoming'], /\[ROLE_NOT_ALLOWED\]$/],
      [['--data', site, 'user', 'add', '--username', 'x', '--role', 'admin'], /\[USER_INVALID\]$/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.err.length, 1, `${args.join(' ')}: ${r.err.join(' | ')}`);
      assert.match(r.err[0]!, pattern);
    }
    const code = JSON.parse((await run(['--data', site, 'pairing-code', '--device-id', 'ra-31', '--role', 'field', '--json'])).out[0]!) as { code: string; expiresAt: string };
    assert.match(code.code, /^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    assert.ok(Date.parse(code.expiresAt) > Date.now());
  });

  it('import --watch picks up batches as they arrive and stops on SIGTERM', async () => {
    const field = path.join(root, 'watch-field');
    const site = path.join(root, 'watch-site');
    const inbox = path.join(root, 'watch-inbox');
    await run(['--data', site, 'init', '--role', 'site', '--device-id', 'site-41']);
    await run(['--data', site, 'keys', 'create']);
    await run(['--data', site, 'keys', 'export', '--out', path.join(root, 'watch.keys')]);
    await run(['--data', field, 'init', '--role', 'field', '--device-id', 'ra-41']);
    await run(['--data', field, 'keys', 'import', path.join(root, 'watch.keys')]);
    mkdirSync(inbox);
    pairStores(site, field);
    const watcher = spawnCli(['--data', site, 'import', '--dir', inbox, '--watch', '1']);
    await watcher.waitFor(/^watching /);
    await run(['--data', field, 'seed', '--subjects', '3']);
    await run(['--data', field, 'export', '--out', inbox]);
    await watcher.waitFor(/^imported 1 batch file/);
    assert.equal(await watcher.kill('SIGTERM'), 0);
    const status = JSON.parse((await run(['--data', site, 'status', '--json'])).out[0]!) as { records: Record<string, number> };
    assert.equal(status.records['edc.subject'], 3);
  });

  it('a store written by a newer app is refused, not damaged', () => {
    const dir = path.join(root, 'newer');
    const store = Store.init(dir, 'site', 'site-05');
    store.sql.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', Date.now() + 10 * 365 * 86_400_000);
    store.close();
    assert.throws(() => Store.open(dir), /newer version of EDC Sync/);
  });

  it('the edc-sync bin runs under plain node with a one-line error and exit code', () => {
    const help = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    assert.match(help, /Usage: edc-sync/);
    for (const cmd of ['init', 'keys', 'seed', 'status', 'copy', 'consume', 'config']) assert.match(help, new RegExp(`\\b${cmd}\\b`));
    const r = spawnSync(process.execPath, [BIN, '--data', path.join(root, 'nowhere'), 'status', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^edc-sync: .*\[DATA_DIR_MISSING\]\n$/);
  });
});

describe('the bundled command line (scripts/edc-sync.mjs runs dist/cli/edc-sync.mjs)', () => {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  /** A copy of the sources the bundle is made of (node_modules linked): its dist/cli is its own. */
  let copy: string;
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'edc-cli-bundle-'));
    copy = path.join(tmp, 'checkout');
    for (const dir of ['electron', 'shared']) {
      cpSync(path.join(repo, dir), path.join(copy, dir), { recursive: true, filter: (src) => !src.endsWith('.test.ts') && !src.includes(`${path.sep}golden`) });
    }
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'scripts/edc-sync.mjs', 'scripts/build-cli.mjs']) {
      cpSync(path.join(repo, file), path.join(copy, file));
    }
    symlinkSync(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const bin = () => path.join(copy, 'scripts', 'edc-sync.mjs');
  const bundle = () => path.join(copy, 'dist', 'cli', 'edc-sync.mjs');
  const cli = (args: string[]) => spawnSync(process.execPath, [bin(), ...args], { encoding: 'utf8' });

  it('--version is package.json\'s version, answered without building or loading the bundle', () => {
    for (const b of [bin(), BIN]) {
      const r = spawnSync(process.execPath, [b, '--version'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.stderr, '');
    }
    assert.equal(existsSync(path.join(copy, 'dist')), false, 'nothing built for --version');
    // The bundle answers it too (commander), with the version it was built with.
    const r = spawnSync(process.execPath, [BIN, '--data', path.join(tmp, 'none'), '--version'], { encoding: 'utf8' });
    assert.equal(r.stdout, `${version}\n`);
  });

  it('a clean checkout builds on first use; an edited source is rebuilt before it runs, a touched one is not', () => {
    const first = cli(['--help']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Usage: edc-sync/);
    assert.ok(existsSync(path.join(copy, 'dist', 'cli', 'inputs.json')));
    assert.ok(existsSync(path.join(copy, 'dist', 'cli', 'db', 'migrations', 'meta', '_journal.json')));
    const inputs = Object.keys((JSON.parse(readFileSync(path.join(copy, 'dist', 'cli', 'inputs.json'), 'utf8')) as { files: object }).files);
    for (const f of ['electron/cli.ts', 'shared/errors.ts', 'package.json', 'electron/core/db/migrations/meta/_journal.json']) assert.ok(inputs.includes(f), f);
    const built = statSync(bundle()).mtimeMs;

    // Touched, content unchanged (a checkout, a `touch`): the bundle stands.
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(copy, 'electron', 'cli.ts'), later, later);
    assert.equal(cli(['--help']).status, 0);
    assert.equal(statSync(bundle()).mtimeMs, built, 'not rebuilt for a touch');

    // Edited: the next start runs the edit.
    const cliTs = path.join(copy, 'electron', 'cli.ts');
    writeFileSync(cliTs, readFileSync(cliTs, 'utf8').replace('Offline-first sync of clinical-research data:', 'EDITED offline-first sync:'));
    const edited = cli(['--help']);
    assert.equal(edited.status, 0, edited.stderr);
    assert.match(edited.stdout, /EDITED offline-first sync/);
    assert.notEqual(statSync(bundle()).mtimeMs, built);
    assert.equal(existsSync(path.join(copy, 'dist', 'cli', '.build.lock')), false, 'lock released');
  });

  it('concurrent starts on a stale bundle all run the new code and leave no lock or partial file', async () => {
    const errorsTs = path.join(copy, 'shared', 'errors.ts');
    const cliTs = path.join(copy, 'electron', 'cli.ts');
    writeFileSync(cliTs, readFileSync(cliTs, 'utf8').replace('EDITED offline-first sync:', 'EDITED TWICE:'));
    writeFileSync(errorsTs, `${readFileSync(errorsTs, 'utf8')}\n// edited\n`);
    const runs = await Promise.all([0, 1, 2, 3].map(() => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [bin(), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += String(d); });
      child.stderr.on('data', (d: Buffer) => { err += String(d); });
      child.on('close', (code) => resolve({ code, out, err }));
    })));
    for (const r of runs) {
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /EDITED TWICE/);
      assert.equal(r.err, '');
    }
    assert.deepEqual(readdirSync(path.join(copy, 'dist', 'cli')).filter((f) => /\.tmp-|\.lock$/.test(f)), [], 'no temp or lock files left');
  });

  it('the bundle runs real commands: migrations, status --json and the web UI resolve from dist/cli', async () => {
    const dir = path.join(tmp, 'site');
    const init = cli(['--data', dir, 'init', '--role', 'site', '--device-id', 'site-09']);
    assert.equal(init.status, 0, init.stderr);
    const status = statusSchema.parse(JSON.parse(cli(['--data', dir, 'status', '--json']).stdout));
    assert.equal(status.deviceId, 'site-09');
    assert.equal(status.outgoing.total, 0);
    // dist/renderer beside dist/cli, as `npm run build:renderer` leaves it.
    mkdirSync(path.join(copy, 'dist', 'renderer'), { recursive: true });
    writeFileSync(path.join(copy, 'dist', 'renderer', 'index.html'), '<!doctype html><title>the renderer of the copy</title>');
    const port = await freePort();
    const server = spawn(process.execPath, [bin(), '--data', dir, 'server', '--host', '127.0.0.1', '--port', String(port), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d: Buffer) => {
          out += String(d);
          const line = out.split('\n').find((l) => l.startsWith('{"url":'));
          if (line) resolve((JSON.parse(line) as { url: string }).url);
        });
        server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /the renderer of the copy/);
      const health = await (await fetch(`${url}/api/v1/health`)).json() as { version: string };
      assert.equal(health.version, version);
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  });
});
