/**
 * Signed JSON documents (batch manifests, receipts, the site's device list): the signer's device key and its
 * Ed25519 signature travel inside the document (`publicKey`, `sig`). What is signed is the canonical JSON of the
 * document without `sig` (object keys sorted at every level, undefined members dropped) under a domain tag, so the
 * bytes do not depend on how a writer ordered its keys and one kind of document never verifies as another.
 */
import { signedBytes, verifySignature } from './device-key.ts';

export interface Signed {
  publicKey?: string | undefined;
  sig?: string | undefined;
}

interface SigningKey {
  readonly publicKey: string;
  sign(data: Buffer | string): string;
}

/** JSON text with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

function bytesOf(domain: string, doc: Signed): Buffer {
  const { sig: _sig, ...rest } = doc;
  return signedBytes(domain, [canonicalJson(rest)]);
}

/** The document with the key's public half and its signature added. */
export function signDocumentWith<T extends object>(key: SigningKey, domain: string, doc: T): T & { publicKey: string; sig: string } {
  const withKey = { ...doc, publicKey: key.publicKey };
  return { ...withKey, sig: key.sign(bytesOf(domain, withKey)) };
}

/** True only if the document carries a signature that verifies under the public key it names. */
export function documentSignatureValid(domain: string, doc: Signed): boolean {
  return Boolean(doc.sig && doc.publicKey && verifySignature(doc.publicKey, bytesOf(domain, doc), doc.sig));
}
