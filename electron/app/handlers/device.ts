/** The device itself: who and what it is, set-up (role, keys, pairing), settings, status, the server link and Sync. */
import os from 'node:os';
import path from 'node:path';
import { healthSchema } from '../../../shared/api.ts';
import { permissionsOf } from '../../../shared/contract.ts';
import { EdcError } from '../../../shared/errors.ts';
import { installedScope, installKeyFile, installKeySetText } from '../../core/crypto/keyset.ts';
import { withSetting } from '../../core/settings-file.ts';
import { readStatus } from '../../core/status.ts';
import { Store } from '../../core/store.ts';
import { APP_VERSION } from '../../core/version.ts';
import { HttpClient } from '../../sync/client.ts';
import { behindSentence, push, renumberedSentence } from '../../sync/push.ts';
import { pair, readServerLink } from '../../sync/server-link.ts';
import type { AreaHandlers, HandlerContext } from '../context.ts';

export function deviceHandlers(ctx: HandlerContext): AreaHandlers<'app.info' | 'device.setup' | 'settings.update' | 'status.get' | 'server.check' | 'sync.run'> {
  return {
    'app.info': async (_input, who) => {
      const s = ctx.store();
      let paired = false;
      if (s) {
        try {
          readServerLink(s.dir);
          paired = true;
        } catch {
          paired = false;
        }
      }
      return {
        initialised: s !== null,
        deviceRole: s?.role ?? null,
        deviceId: s?.deviceId ?? null,
        siteCode: s?.settings.siteCode ?? null,
        hasKeys: s?.hasKeys() ?? false,
        keyScope: s ? installedScope(s.keyDir) : 'none',
        paired,
        version: APP_VERSION,
        host: ctx.opts.host,
        user: { username: who.username, role: who.role },
        permissions: [...permissionsOf(who.role)],
        addresses: localAddresses(),
        // Paths and addresses of the device's set-up are for the people who may change them.
        settings: s && permissionsOf(who.role).includes('configure') ? { ...s.settings } : null,
      };
    },

    'device.setup': async (input) => {
      const done: string[] = [];
      if (input.role || input.deviceId) {
        if (ctx.store()) throw new EdcError('DATA_DIR_EXISTS', ctx.opts.dataDir);
        if (!input.role || !input.deviceId) throw new EdcError('INPUT_INVALID', 'choose both a role and a device id');
        ctx.setStore(Store.init(ctx.opts.dataDir, input.role, input.deviceId, input.siteCode ? { siteCode: input.siteCode } : {}));
        done.push(`set up as ${input.role} device ${input.deviceId}`);
      }
      if (input.keyFile || input.keySetJson) {
        const set = input.keySetJson ? installKeySetText(ctx.need(), input.keySetJson, 'the chosen key file') : installKeyFile(ctx.need(), path.resolve(input.keyFile!));
        done.push(`key set of project ${set.projectId} installed (${set.file.keys.length} key(s)${set.canReadPii ? '' : ', middleman\'s: participants\' details stay protected'})`);
      }
      if (input.server) {
        const link = await pair(ctx.need(), input.server.url, input.server.code);
        done.push(`paired with server ${link.serverDeviceId} at ${link.url}`);
      }
      if (done.length === 0) throw new EdcError('INPUT_INVALID', 'nothing to do: give a role and device id, a key file or a server and code');
      ctx.changed('status');
      return { done };
    },

    'settings.update': async ({ key, value }) => {
      const s = ctx.need();
      if (key === 'role' || key === 'deviceId') throw new EdcError('SETTING_VALUE_INVALID', `${key} is fixed when the device is set up`);
      s.saveSettings(withSetting(s.settings, key, value));
      return { settings: { ...s.settings } };
    },

    'status.get': async () => readStatus(ctx.need()),

    'server.check': async () => {
      const s = ctx.need();
      let url: string;
      try {
        url = readServerLink(s.dir).url;
      } catch (e) {
        return { configured: false, reachable: false, url: null, message: e instanceof EdcError ? e.message : String(e), code: e instanceof EdcError ? e.code : 'NOT_PAIRED', checkedAt: new Date().toISOString() };
      }
      try {
        const h = await new HttpClient({ baseURL: url, attempts: 1, timeoutMs: 4000 }).get('/api/v1/health', healthSchema);
        return { configured: true, reachable: true, url, message: `${h.role} server ${h.deviceId} is reachable`, code: null, checkedAt: new Date().toISOString() };
      } catch (e) {
        return { configured: true, reachable: false, url, message: e instanceof EdcError ? e.message : String(e), code: e instanceof EdcError ? e.code : 'SERVER_UNREACHABLE', checkedAt: new Date().toISOString() };
      }
    },

    'sync.run': async (_input, who) => ctx.exclusive('sync.run', async () => {
      const s = ctx.need();
      const r = await push(s, { onProgress: ctx.progress('sync.run'), actor: ctx.actor(who) });
      ctx.changed('status');
      const held = r.held.reduce((n, h) => n + h.count, 0);
      const message = held
        ? `${held} change(s) are kept safely on this device and were not sent: ${r.held[0]!.reason}. Sync again once that is done.`
        : r.rejected.length
        ? `The server refused ${r.rejected.length} transaction(s): ${r.rejected[0]!.reason}. They stay here; tell the data manager.`
        : r.sent === 0 ? 'Nothing was waiting: the server has everything from this device.'
          : `Sent ${r.sent} transaction(s): ${r.accepted} new at the server, ${r.duplicates} it already had. Nothing is waiting.`;
      // A laptop restored from a backup: said first, in full, whatever else the push did.
      const moved = r.renumbered ? renumberedSentence(s.deviceId, 'the server', r.renumbered) : r.behind ? behindSentence(s.deviceId, 'the server', r.behind) : null;
      return { sent: r.sent, accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected.length, message: moved ? `${moved[0]!.toUpperCase()}${moved.slice(1)}. ${message}` : message };
    }),
  };
}

/** This machine's IPv4 addresses, LAN first, loopback last. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') out.push(a.address);
  }
  return [...new Set(out)].sort((a, b) => Number(a.startsWith('127.')) - Number(b.startsWith('127.')));
}
