/**
 * What the preload exposes as `window.edc`, built from an ipcRenderer-like object so it runs (and is tested) under
 * plain Node. Only contract calls are forwarded, each on its own channel; events arrive on the one event channel.
 * No ipcRenderer, no Node object and no generic send ever reaches the page.
 */
import { callChannel, EVENT_CHANNEL, isCallName, type DesktopBridge } from '../../shared/channels.ts';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function createBridge(ipc: IpcRendererLike): DesktopBridge {
  return {
    invoke(name, input) {
      if (!isCallName(name)) return Promise.resolve({ ok: false, error: { code: 'CALL_UNKNOWN', message: `No such call: ${String(name).slice(0, 60)}` } });
      return ipc.invoke(callChannel(name), input);
    },
    onEvent(listener) {
      if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
      const wrapped = (_event: unknown, payload: unknown) => listener(payload); // the IpcRendererEvent stays here
      ipc.on(EVENT_CHANNEL, wrapped);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, wrapped);
      };
    },
  } satisfies DesktopBridge;
}
