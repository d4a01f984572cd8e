/**
 * The preload (sandboxed, bundled to dist/electron/preload.cjs): exposes `window.edc` = { invoke, onEvent } and
 * nothing else. See shell/bridge.ts for what those do; no ipcRenderer or Node object reaches the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { DesktopBridge } from '../shared/channels.ts';
import { createBridge } from './shell/bridge.ts';

const bridge = createBridge(ipcRenderer) satisfies DesktopBridge;
contextBridge.exposeInMainWorld('edc', bridge);
