/**
 * The site's signed device list (shared/device-list.ts), issued by the site at every contact, kept by devices, and
 * carried by a middleman to the laptops it visits. A laptop with a list refuses a share session from a driver's
 * laptop that the list does not name as a middleman, that is revoked, or that cannot sign the session's code with
 * the key the list names: offline, with the share code as a second factor.
 *
 * Whose list is believed: the site this device is paired with, under the site's device key, which the device keeps
 * from its pairing answer (or, for a device paired before device lists, from the first list its own server sent over
 * its token channel). A list from anyone else, altered, or older than the one held is ignored.
 */
import { deviceListSchema, type DeviceList } from '../../shared/device-list.ts';
import { z } from 'zod';
import { signedBytes, verifySignature } from './crypto/device-key.ts';
import { canonicalJson, documentSignatureValid, signDocumentWith } from './crypto/signed-json.ts';
import { createHash } from 'node:crypto';
import type { Store } from './store.ts';
import { shaped } from './db/typed.ts';

const listedRow = z.object({
  device_id: z.string(), role: z.enum(['field', 'middleman', 'site', 'central']), public_key: z.string().nullable(), revoked_at: z.string().nullable(),
});

export const DEVICE_LIST_DOMAIN = 'edc-device-list/1';
export const SHARE_SESSION_DOMAIN = 'edc-share-session/1';

const ISSUED_STATE = 'deviceListIssued';
const LIST_STATE = 'deviceList';
const SERVER_KEY_STATE = 'serverKey';

const issuedSchema = z.object({ hash: z.string(), seq: z.number().int().positive(), issuedAt: z.string() });
const serverKeySchema = z.object({ deviceId: z.string(), publicKey: z.string() });

/** Site: the current list, signed; its number grows only when a device is paired, replaced, revoked or reinstated. */
export function issueDeviceList(store: Store): DeviceList {
  const rows = shaped(store.sql, listedRow, 'SELECT device_id, role, public_key, revoked_at FROM device ORDER BY device_id').all();
  const devices = rows.map((r) => ({ deviceId: r.device_id, role: r.role, publicKey: r.public_key, revoked: r.revoked_at !== null }));
  const hash = createHash('sha256').update(canonicalJson(devices)).digest('hex');
  let issued = store.getStateJson(ISSUED_STATE, issuedSchema);
  if (!issued || issued.hash !== hash) {
    issued = { hash, seq: (issued?.seq ?? 0) + 1, issuedAt: new Date().toISOString() };
    store.setStateJson(ISSUED_STATE, issued);
  }
  const doc = { format: 'edc-device-list' as const, version: 1 as const, issuer: store.deviceId, seq: issued.seq, issuedAt: issued.issuedAt, devices };
  return signDocumentWith(store.signingKey, DEVICE_LIST_DOMAIN, doc);
}

/** Device: the site's key, from the pairing answer. */
export function pinServerKey(store: Store, server: { deviceId: string; publicKey: string }): void {
  store.setStateJson(SERVER_KEY_STATE, server);
}

export function serverKey(store: Store): { deviceId: string; publicKey: string } | null {
  return store.getStateJson(SERVER_KEY_STATE, serverKeySchema);
}

/**
 * Device: keeps `list` if it is the paired site's, verifies under its key, and is newer than the one held.
 * `pairedWith`: the list came from this device's own server over its token channel (push/contact), so for a device
 * paired before device lists the site's key may be learnt from it.
 */
export function acceptDeviceList(store: Store, raw: unknown, opts: { pairedWith?: string } = {}): boolean {
  const parsed = deviceListSchema.safeParse(raw);
  if (!parsed.success) return false;
  const list = parsed.data;
  if (!documentSignatureValid(DEVICE_LIST_DOMAIN, list)) return false;
  let key = serverKey(store);
  if (!key && opts.pairedWith && list.issuer === opts.pairedWith) {
    key = { deviceId: list.issuer, publicKey: list.publicKey };
    pinServerKey(store, key);
  }
  if (!key || key.deviceId !== list.issuer || key.publicKey !== list.publicKey) return false;
  const held = storedDeviceList(store);
  if (held && held.seq >= list.seq) return false;
  store.setStateJson(LIST_STATE, list);
  return true;
}

/** After pairing with a (new) site: the old site's list no longer applies. */
export function forgetDeviceList(store: Store): void {
  store.sql.prepare('DELETE FROM device_state WHERE key = ?').run(LIST_STATE);
}

export function storedDeviceList(store: Store): DeviceList | null {
  return store.getStateJson(LIST_STATE, deviceListSchema);
}

/** What a middleman signs to open a share session: the code it was given and its own id. */
export function shareSessionBytes(code: string, middleman: string): Buffer {
  return signedBytes(SHARE_SESSION_DOMAIN, [code, middleman]);
}

/**
 * Laptop: why it refuses the driver's laptop `middleman`, or null. No list held (a site of an older version, or a
 * laptop that has not synced since its upgrade): nothing to check against, the share code alone decides.
 */
export function middlemanRefusal(store: Store, middleman: string, proof: { code: string; publicKey?: string | undefined; sig?: string | undefined }): string | null {
  const list = storedDeviceList(store);
  if (!list) return null;
  const entry = list.devices.find((d) => d.deviceId === middleman);
  const asOf = `the site's device list of ${list.issuedAt.slice(0, 10)}`;
  if (!entry) return `${middleman} is not a device of site ${list.issuer} (${asOf})`;
  if (entry.revoked) return `${middleman} is revoked at site ${list.issuer} (${asOf})`;
  if (entry.role !== 'middleman') return `${middleman} is paired as a ${entry.role} device, not as a driver's laptop (${asOf})`;
  if (entry.publicKey) {
    const holdsKey = proof.publicKey === entry.publicKey && proof.sig !== undefined && verifySignature(entry.publicKey, shareSessionBytes(proof.code, middleman), proof.sig);
    if (!holdsKey) return `the device calling itself ${middleman} does not hold ${middleman}'s key`;
  }
  return null;
}
