/** DIR/server.json: which server this device pushes to and its device token (mode 0600). */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { healthSchema, pairResponseSchema, serverLinkSchema, type ServerLink } from '../../shared/api.ts';
import { EdcError } from '../../shared/errors.ts';
import { forgetDeviceList, pinServerKey } from '../core/device-list.ts';
import type { Store } from '../core/store.ts';
import { HttpClient } from './client.ts';

export const SERVER_LINK_FILE = 'server.json';

export function readServerLink(dir: string): ServerLink {
  const file = path.join(dir, SERVER_LINK_FILE);
  if (!existsSync(file)) throw new EdcError('NOT_PAIRED');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new EdcError('SETTINGS_INVALID', `${file} is not readable JSON; pair the device again`, { cause });
  }
  const parsed = serverLinkSchema.safeParse(json);
  if (!parsed.success) throw new EdcError('SETTINGS_INVALID', `${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}; pair the device again`);
  return parsed.data;
}

/** `pair --server URL --code C`: exchange a pairing code for this device's token. */
export async function pair(store: Store, serverUrl: string, code: string): Promise<ServerLink> {
  let url: URL;
  try {
    url = new URL(serverUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new EdcError('INPUT_INVALID', `"${serverUrl}" is not an http(s) URL`);
  }
  const base = url.origin;
  const client = new HttpClient({ baseURL: base, attempts: 2 });
  const health = await client.get('/api/v1/health', healthSchema);
  if (health.role !== 'site' && health.role !== 'central') throw new EdcError('SERVER_REJECTED', `${base} is a ${health.role} device, not a server`);
  const { data } = await client.post('/api/v1/pair', { code, deviceId: store.deviceId, role: store.role, publicKey: store.signingKey.publicKey }, pairResponseSchema);
  const link: ServerLink = { url: base, deviceId: store.deviceId, serverDeviceId: data.serverDeviceId, token: data.token, pairedAt: new Date().toISOString() };
  const file = path.join(store.dir, SERVER_LINK_FILE);
  try {
    writeFileSync(`${file}.tmp`, `${JSON.stringify(link, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    chmodSync(file, 0o600);
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot write ${file}`, { cause });
  }
  // The site's key: its device list (which drivers a laptop may trust offline) is believed under it. A new pairing
  // (a new site, or this id given to a new machine) starts from the new site's list.
  if (data.serverPublicKey) {
    pinServerKey(store, { deviceId: data.serverDeviceId, publicKey: data.serverPublicKey });
    forgetDeviceList(store);
  }
  return link;
}
