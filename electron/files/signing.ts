/**
 * Signed transaction files (issue 10, deliverable 4): the exporting device signs each batch manifest and the
 * importing device signs each receipt, with its own Ed25519 device key (core/crypto/device-key.ts). What is signed
 * is the canonical JSON of the document without its `sig` (object keys sorted at every level), under a domain tag,
 * so the bytes do not depend on how a writer ordered its keys and a manifest's signature never verifies as a
 * receipt's.
 *
 * Whose key is whose (`peerKey`): a device paired with this one (the device table), else the key pinned for it here
 * (`trust --device-id D --public-key K` by an administrator, or the first signed file from it, see `pinPeerKey`).
 * A manifest or receipt signed under any other key, altered after signing, or unsigned from a device whose key is
 * known here is refused with the reason; nothing it names is touched.
 */
import { documentSignatureValid, signDocumentWith, type Signed } from '../core/crypto/signed-json.ts';
import { peerKey, revokedHere } from '../core/peer-keys.ts';
import type { Store } from '../core/store.ts';

export { pinnedKey, pinPeerKey, type PinnedKey } from '../core/peer-keys.ts';

export const MANIFEST_DOMAIN = 'edc-manifest/1';
export const RECEIPT_DOMAIN = 'edc-receipt/1';

/** The document with this device's public key and signature added. */
export function signDocument<T extends object>(store: Store, domain: string, doc: T): T & { publicKey: string; sig: string } {
  return signDocumentWith(store.signingKey, domain, doc);
}

export type SignatureCheck =
  | { ok: true; signed: boolean; pinned?: string }
  | { ok: false; reason: string };

/**
 * Whether a document `who` says it signed may be believed here. `mayPin`: the document arrived over a channel that
 * authenticates its origin (or this is the first file from that device), so an unknown device's key is pinned.
 */
export function checkDocument(store: Store, domain: string, doc: Signed, who: string, what: string, opts: { mayPin: boolean }): SignatureCheck {
  if (revokedHere(store, who)) return { ok: false, reason: `${who} is revoked on this device: what it signs is not believed` };
  const known = peerKey(store, who);
  if (!doc.sig || !doc.publicKey) {
    if (known) return { ok: false, reason: `the ${what} is not signed, but ${who} signs what it writes (forged, or made by someone else)` };
    return { ok: true, signed: false };
  }
  if (!documentSignatureValid(domain, doc)) return { ok: false, reason: `the ${what}'s signature does not verify (altered after signing, or forged)` };
  if (known && known !== doc.publicKey) return { ok: false, reason: `the ${what} is signed with a key that is not ${who}'s (forged)` };
  if (!known) {
    if (!opts.mayPin) return { ok: false, reason: `${who}'s device key is not known here yet: an administrator registers it (edc-sync trust --device-id ${who} --public-key …), or the first files from it come by SFTP` };
    return { ok: true, signed: true, pinned: doc.publicKey };
  }
  return { ok: true, signed: true };
}
