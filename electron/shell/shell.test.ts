/**
 * The Electron shell under plain Node (no Electron binary here): the preload bundle evaluated with a fake
 * `electron`, the IPC registration, the window's security settings and guards, the log rotation, and the real
 * main.mjs bundle run with a fake `electron` module, through IPC to the worker thread and the store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { CALL_NAMES, callChannel, EVENT_CHANNEL } from '../../shared/channels.ts';
import { assertContractComplete, contract } from '../../shared/contract.ts';
import { createBridge, type IpcRendererLike } from './bridge.ts';
import { registerIpc, type IpcMainLike } from './ipc.ts';
import { createLogger } from './log.ts';
import { menuTemplate } from './menu.ts';
import { hardenContents, windowOptions, type WebContentsLike } from './window.ts';

const CONTRACT_CHANNELS = new Set<string>([...CALL_NAMES.map(callChannel), EVENT_CHANNEL]);
let out: string;

before(async () => {
  // Inside the project (dist/ is ignored by git) so the bundles resolve better-sqlite3 from node_modules.
  mkdirSync('dist', { recursive: true });
  out = mkdtempSync(path.resolve('dist', 'test-shell-'));
  const { buildDesktop } = (await import(pathToFileURL(path.resolve('scripts/build-app.mjs')).href)) as { buildDesktop(dir: string): Promise<void> };
  await buildDesktop(path.join(out, 'electron'));
});
after(() => rmSync(out, { recursive: true, force: true }));

function fakeIpcRenderer() {
  const invoked: string[] = [];
  const listening: string[] = [];
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      invoked.push(channel);
      return { ok: true, value: args };
    },
    on: (channel) => listening.push(channel),
    removeListener: (channel) => listening.splice(listening.indexOf(channel), 1),
  };
  return { ipc, invoked, listening };
}

describe('contract', () => {
  it('the handler map and the channel list name the same calls', () => {
    assertContractComplete();
    assert.deepEqual(Object.keys(contract).sort(), [...CALL_NAMES].sort());
  });
});

describe('preload', () => {
  it('the bundled preload exposes exactly window.edc = {invoke, onEvent}, requires only electron, and uses only contract channels', async () => {
    const code = readFileSync(path.join(out, 'electron', 'preload.cjs'), 'utf8');
    const exposed: [string, Record<string, unknown>][] = [];
    const required: string[] = [];
    const { ipc, invoked, listening } = fakeIpcRenderer();
    const electron = { contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.push([key, api]) }, ipcRenderer: ipc };
    const module = { exports: {} };
    vm.runInNewContext(code, { require: (m: string) => { required.push(m); if (m === 'electron') return electron; throw new Error(`preload required ${m}`); }, module, exports: module.exports, console });
    assert.deepEqual(required, ['electron']);
    assert.equal(exposed.length, 1);
    const [key, api] = exposed[0]!;
    assert.equal(key, 'edc');
    assert.deepEqual(Object.keys(api).sort(), ['invoke', 'onEvent']);
    const bridge = api as unknown as ReturnType<typeof createBridge>;
    for (const name of CALL_NAMES) await bridge.invoke(name, {});
    const refused = await bridge.invoke('fs.readFile' as never, { path: '/etc/passwd' });
    assert.deepEqual((refused as { error: { code: string } }).error.code, 'CALL_UNKNOWN');
    const off = bridge.onEvent(() => {});
    for (const ch of [...invoked, ...listening]) assert.ok(CONTRACT_CHANNELS.has(ch), `channel ${ch} is outside the contract`);
    assert.deepEqual(invoked, CALL_NAMES.map(callChannel));
    assert.deepEqual(listening, [EVENT_CHANNEL]);
    off();
    assert.deepEqual(listening, []);
  });

  it('event listeners get the payload, never the IPC event object', () => {
    let handler: ((event: unknown, payload: unknown) => void) | undefined;
    const bridge = createBridge({ invoke: async () => null, on: (_c, l) => { handler = l; }, removeListener: () => {} });
    const got: unknown[] = [];
    bridge.onEvent((e) => got.push(e));
    handler!({ sender: 'ipc internals' }, { type: 'changed', what: 'status' });
    assert.deepEqual(got, [{ type: 'changed', what: 'status' }]);
  });
});

describe('ipc registration', () => {
  const appUrl = 'file:///app/dist/renderer/index.html';
  const setup = () => {
    const handlers = new Map<string, Parameters<IpcMainLike['handle']>[1]>();
    const calls: [string, unknown][] = [];
    const ipcMain: IpcMainLike = { handle: (ch, fn) => { assert.ok(!handlers.has(ch), `${ch} registered twice`); handlers.set(ch, fn); }, removeHandler: (ch) => handlers.delete(ch) };
    const unregister = registerIpc(ipcMain, {
      call: async (name, input) => { calls.push([name, input]); return { ok: true, value: null }; },
      isTrustedSender: (url) => url === appUrl,
    });
    return { handlers, calls, unregister };
  };

  it('registers one handler per contract call and nothing else', () => {
    const { handlers, unregister } = setup();
    assert.deepEqual([...handlers.keys()].sort(), CALL_NAMES.map(callChannel).sort());
    for (const ch of handlers.keys()) assert.ok(CONTRACT_CHANNELS.has(ch));
    unregister();
    assert.equal(handlers.size, 0);
  });

  it('refuses other senders and invalid arguments before anything reaches the backend', async () => {
    const { handlers, calls } = setup();
    const trusted = { senderFrame: { url: appUrl } };
    const status = handlers.get(callChannel('status.get'))!;
    assert.equal(((await status({ senderFrame: { url: 'https://evil.example/' } }, {})) as { error: { code: string } }).error.code, 'PERMISSION_DENIED');
    assert.equal(((await status({ senderFrame: null }, {})) as { error: { code: string } }).error.code, 'PERMISSION_DENIED');
    const pull = handlers.get(callChannel('pull.run'))!;
    assert.equal(((await pull(trusted, { url: 'not a url', code: 'x' })) as { error: { code: string } }).error.code, 'INPUT_INVALID');
    assert.equal(((await pull(trusted, { url: 'http://10.0.0.2:1', code: 'ABCD-1234', extra: 1 })) as { error: { code: string } }).error.code, 'INPUT_INVALID');
    assert.equal(((await status(trusted, {}, 'second argument')) as { error: { code: string } }).error.code, 'INPUT_INVALID');
    assert.deepEqual(calls, []);
    assert.deepEqual(await status(trusted, {}), { ok: true, value: null });
    assert.deepEqual(calls, [['status.get', {}]]);
  });
});

describe('window', () => {
  it('runs the page isolated and sandboxed, without Node', () => {
    const w = windowOptions('/x/preload.cjs').webPreferences;
    assert.equal(w.contextIsolation, true);
    assert.equal(w.sandbox, true);
    assert.equal(w.nodeIntegration, false);
    assert.equal(w.nodeIntegrationInWorker, false);
    assert.equal(w.webviewTag, false);
    assert.equal(w.webSecurity, true);
  });

  it('blocks navigation away, redirects, new windows and webviews', () => {
    const listeners = new Map<string, (e: { preventDefault(): void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
    const contents = { on: (ev: string, l: (e: { preventDefault(): void }, url?: string) => void) => listeners.set(ev, l), setWindowOpenHandler: (h: typeof openHandler) => { openHandler = h; } } as unknown as WebContentsLike;
    const appUrl = 'file:///app/dist/renderer/index.html';
    hardenContents(contents, appUrl);
    const attempt = (ev: string, url?: string) => {
      let prevented = false;
      listeners.get(ev)!({ preventDefault: () => { prevented = true; } }, url);
      return prevented;
    };
    assert.equal(attempt('will-navigate', 'https://evil.example/'), true);
    assert.equal(attempt('will-navigate', 'file:///etc/passwd'), true);
    assert.equal(attempt('will-redirect', 'http://127.0.0.1:9/'), true);
    assert.equal(attempt('will-navigate', `${appUrl}#/status`), false);
    assert.equal(attempt('will-attach-webview'), true);
    assert.deepEqual(openHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
  });

  it('has a menu with the data and log folders, and developer tools only when asked', () => {
    const noop = () => {};
    const actions = { openDataFolder: noop, openLogFolder: noop, reload: noop, toggleDevTools: noop, about: noop };
    const labels = (m: ReturnType<typeof menuTemplate>) => JSON.stringify(m.map((i) => i.submenu?.map((s) => s.label ?? s.role)));
    assert.match(labels(menuTemplate(actions, { devTools: false })), /Open data folder.*Open log folder/);
    assert.doesNotMatch(labels(menuTemplate(actions, { devTools: false })), /Developer tools/);
    assert.match(labels(menuTemplate(actions, { devTools: true })), /Developer tools/);
  });
});

describe('log', () => {
  it('rotates by size and keeps a bounded number of files', async () => {
    const dir = path.join(out, 'logs');
    const log = createLogger(dir, { size: '1K', maxFiles: 2 });
    for (let i = 0; i < 100; i++) {
      log.info({ i }, 'a line long enough to fill the small test log quickly');
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
    }
    await log.flushAndClose();
    await new Promise((r) => setTimeout(r, 200));
    const files = readdirSync(dir);
    assert.ok(files.includes('edc-sync.log'), files.join());
    const rotated = files.filter((f) => f.endsWith('.gz'));
    assert.ok(rotated.length >= 1 && rotated.length <= 2, `rotated files: ${files.join()}`);
  });
});

describe('main process bundle', () => {
  it('runs with a fake electron: single-instance lock, hardened window, IPC through the worker to a real store', () => {
    const dir = path.join(out, 'main-run');
    const report = path.join(dir, 'report.json');
    const fake = path.join(out, 'fake-electron.mjs');
    const hooks = path.join(out, 'hooks.mjs');
    const register = path.join(out, 'register.mjs');
    writeFileSync(fake, FAKE_ELECTRON);
    writeFileSync(hooks, `export async function resolve(spec, ctx, next) { return spec === 'electron' ? { url: ${JSON.stringify(pathToFileURL(fake).href)}, shortCircuit: true } : next(spec, ctx); }`);
    writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
    const r = spawnSync(process.execPath, ['--import', register, path.join(out, 'electron', 'main.mjs')], {
      env: { ...process.env, FAKE_ELECTRON_DIR: dir, FAKE_ELECTRON_REPORT: report, EDC_SYNC_DATA: path.join(dir, 'data') }, encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(r.status, 0, `main.mjs failed: ${r.stderr}\n${r.stdout}`);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as {
      singleInstance: boolean; webPreferences: Record<string, unknown>; channels: string[]; menu: boolean; permissionHandler: boolean;
      navigationGuarded: boolean; windowOpen: unknown; loaded: string; replies: Record<string, { ok: boolean; value?: Record<string, unknown>; error?: { code: string } }>;
    };
    assert.equal(rep.singleInstance, true);
    assert.deepEqual({ ci: rep.webPreferences.contextIsolation, sb: rep.webPreferences.sandbox, ni: rep.webPreferences.nodeIntegration }, { ci: true, sb: true, ni: false });
    assert.deepEqual(rep.channels.sort(), CALL_NAMES.map(callChannel).sort());
    assert.equal(rep.menu, true);
    assert.equal(rep.permissionHandler, true);
    assert.equal(rep.navigationGuarded, true);
    assert.deepEqual(rep.windowOpen, { action: 'deny' });
    assert.match(rep.loaded, /renderer[/\\]index\.html$/);
    assert.equal(rep.replies.infoBefore!.value?.initialised, false, JSON.stringify(rep.replies));
    assert.equal(rep.replies.setup!.ok, true, JSON.stringify(rep.replies.setup));
    assert.equal(rep.replies.infoAfter!.value!.deviceRole, 'field');
    assert.equal(rep.replies.status!.value!.deviceId, 'ra-77');
    assert.equal(rep.replies.untrusted!.error!.code, 'PERMISSION_DENIED');
    assert.equal(rep.replies.invalid!.error!.code, 'INPUT_INVALID');
  });
});

/** A stand-in for the `electron` module: records what main.mjs does, then drives a few IPC calls and quits. */
const FAKE_ELECTRON = String.raw`
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
const dir = process.env.FAKE_ELECTRON_DIR;
mkdirSync(dir, { recursive: true });
const report = { singleInstance: false, channels: [], menu: false, permissionHandler: false, navigationGuarded: false, replies: {} };
const handlers = new Map();
const appEvents = new Map();
const on = (map) => (ev, fn) => { (map.get(ev) ?? map.set(ev, []).get(ev)).push(fn); };
let loadedUrl;
export const ipcMain = { handle: (ch, fn) => { report.channels.push(ch); handlers.set(ch, fn); }, removeHandler: (ch) => handlers.delete(ch) };
export const Menu = { buildFromTemplate: (t) => t, setApplicationMenu: (m) => { report.menu = Array.isArray(m) && m.length > 0; } };
export const session = { defaultSession: { setPermissionRequestHandler: (fn) => { let granted; fn(null, 'media', (g) => { granted = g; }); report.permissionHandler = granted === false; } } };
export const shell = { openPath: async () => '' };
export const dialog = { showMessageBox: async () => ({}) };
export class BrowserWindow {
  static all = [];
  static getAllWindows() { return BrowserWindow.all; }
  constructor(opts) {
    report.webPreferences = opts.webPreferences;
    const wcEvents = new Map();
    this.webContents = {
      on: on(wcEvents),
      setWindowOpenHandler: (h) => { report.windowOpen = h({ url: 'https://evil.example/' }); },
      send: () => {},
      reload: () => {},
    };
    this._wcEvents = wcEvents;
    BrowserWindow.all.push(this);
  }
  once() {}
  on() {}
  async loadFile(file) {
    report.loaded = file;
    loadedUrl = 'file://' + file;
    let prevented = false;
    for (const fn of this._wcEvents.get('will-navigate') ?? []) fn({ preventDefault: () => { prevented = true; } }, 'https://evil.example/');
    report.navigationGuarded = prevented;
  }
}
const call = (name, input, url = loadedUrl) => handlers.get('edc:call:' + name)({ senderFrame: { url } }, input);
export const app = {
  requestSingleInstanceLock: () => { report.singleInstance = true; return true; },
  getPath: (k) => path.join(dir, k),
  on: on(appEvents),
  quit: () => {},
  whenReady: () => Promise.resolve().then(() => setTimeout(drive, 0)),
};
async function drive() {
  try {
    report.replies.infoBefore = await call('app.info', {});
    report.replies.setup = await call('device.setup', { role: 'field', deviceId: 'ra-77' });
    report.replies.infoAfter = await call('app.info', {});
    report.replies.status = await call('status.get', {});
    report.replies.untrusted = await call('status.get', {}, 'https://evil.example/');
    report.replies.invalid = await call('subjects.get', { id: 'not-a-uuid' });
  } finally {
    writeFileSync(process.env.FAKE_ELECTRON_REPORT, JSON.stringify(report));
    let prevented = false;
    for (const fn of appEvents.get('before-quit') ?? []) fn({ preventDefault: () => { prevented = true; } });
    // main.mjs closes the worker and the log, then calls app.quit(); give it a moment, then end like Electron would.
    setTimeout(() => process.exit(0), prevented ? 1500 : 0);
  }
}
`;
