/**
 * The Electron shell, kept thin: single-instance lock, the data and log folders per OS, the menu, one window with
 * strict web preferences, and IPC handlers (one per contract call) that forward to the backend worker thread.
 * Everything it uses besides `electron` lives in electron/shell/ and runs under plain Node in the tests.
 * Built by scripts/build-app.mjs to dist/electron/main.mjs (with preload.cjs and worker.mjs beside it).
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell } from 'electron';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertContractComplete } from '../shared/contract.ts';
import { EVENT_CHANNEL } from '../shared/channels.ts';
import { APP_VERSION } from './core/version.ts';
import { registerIpc } from './shell/ipc.ts';
import { createLogger } from './shell/log.ts';
import { menuTemplate, type MenuItem } from './shell/menu.ts';
import { hardenContents, isAppUrl, windowOptions } from './shell/window.ts';
import { BackendWorker } from './shell/worker-client.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '..', 'renderer', 'index.html');
const appUrl = pathToFileURL(rendererIndex).href;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  assertContractComplete();
  const dataDir = process.env.EDC_SYNC_DATA ?? path.join(app.getPath('userData'), 'data');
  const logDir = app.getPath('logs');
  const log = createLogger(logDir);
  log.info({ version: APP_VERSION, dataDir }, 'starting');
  let win: BrowserWindow | null = null;

  const worker = new BackendWorker({
    file: path.join(here, 'worker.mjs'),
    dataDir,
    username: os.userInfo().username,
    onEvent: (event) => win?.webContents.send(EVENT_CHANNEL, event),
    log: (line) => log.warn(line),
  });
  registerIpc(ipcMain, { call: (name, input) => worker.call(name, input), isTrustedSender: (url) => isAppUrl(appUrl, url) });

  const createWindow = () => {
    win = new BrowserWindow(windowOptions(path.join(here, 'preload.cjs')));
    hardenContents(win.webContents, appUrl, (l) => log.warn(l));
    win.once('ready-to-show', () => win?.show());
    win.on('closed', () => { win = null; });
    void win.loadFile(rendererIndex);
  };

  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  app.on('web-contents-created', (_e, contents) => hardenContents(contents, appUrl, (l) => log.warn(l)));

  void app.whenReady().then(() => {
    // The app asks for no browser permission (camera, geolocation, notifications…): refuse them all.
    session.defaultSession.setPermissionRequestHandler((_wc, _perm, done) => done(false));
    const devTools = process.env.EDC_SYNC_DEVTOOLS === '1';
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate({
      openDataFolder: () => void shell.openPath(dataDir),
      openLogFolder: () => void shell.openPath(logDir),
      reload: () => win?.webContents.reload(),
      toggleDevTools: () => win?.webContents.toggleDevTools(),
      about: () => void dialog.showMessageBox({ type: 'info', title: 'EDC Sync', message: `EDC Sync ${APP_VERSION}`, detail: `Data: ${dataDir}\nLogs: ${logDir}` }),
    }, { devTools }) as MenuItem[] as Electron.MenuItemConstructorOptions[]));
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    void worker.close().then(async () => {
      log.info('stopped');
      await log.flushAndClose();
      app.quit();
    });
  });
}
