/**
 * Whose device key is whose, as this device knows it: its own, a paired device's (the device table, revoked ones
 * included: their key stays theirs, so nobody can pin another key under their name), or one pinned here for a device
 * that writes files or receipts to this one (`edc-sync trust`, its first signed file, its first receipt by SFTP), or a
 * laptop's learnt by a middleman at its pulls. Used by signed files (files/signing.ts) and custody records.
 */
import { z } from 'zod';
import type { Store } from './store.ts';
import { shaped } from './db/typed.ts';

const publicKeyRow = z.object({ public_key: z.string().nullable() });
const revokedRow = z.object({ revoked_at: z.string().nullable() });

const PEER_KEY_STATE = 'peerKey:';
/** A middleman's record of a laptop's key, from the share session (sync/pull.ts). */
export const PRODUCER_KEY_STATE = 'producerKey:';

const pinnedSchema = z.object({ publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/), how: z.enum(['registered', 'first-file', 'sftp']), at: z.string() });
export type PinnedKey = z.infer<typeof pinnedSchema>;

export function peerKey(store: Store, deviceId: string): string | null {
  if (deviceId === store.deviceId) return store.signingKey.publicKey;
  const paired = shaped(store.sql, publicKeyRow, 'SELECT public_key FROM device WHERE device_id = ?').get(deviceId);
  if (paired?.public_key) return paired.public_key;
  return pinnedKey(store, deviceId)?.publicKey ?? store.getState(`${PRODUCER_KEY_STATE}${deviceId}`);
}

/** Whether the device is paired here and revoked: what it signs now is not believed. */
export function revokedHere(store: Store, deviceId: string): boolean {
  const row = shaped(store.sql, revokedRow, 'SELECT revoked_at FROM device WHERE device_id = ?').get(deviceId);
  return Boolean(row?.revoked_at);
}

export function pinnedKey(store: Store, deviceId: string): PinnedKey | null {
  return store.getStateJson(`${PEER_KEY_STATE}${deviceId}`, pinnedSchema);
}

export function pinPeerKey(store: Store, deviceId: string, publicKey: string, how: PinnedKey['how']): void {
  store.setStateJson(`${PEER_KEY_STATE}${deviceId}`, { publicKey, how, at: new Date().toISOString() } satisfies PinnedKey);
}
