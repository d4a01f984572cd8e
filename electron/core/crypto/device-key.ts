/**
 * This device's own signing key (Ed25519, node:crypto): who made an envelope, a batch manifest, a receipt, a device
 * list or a custody record. It is NOT part of the study key set: every device has its own, made at `init` (and, for
 * a data folder made by an older version, on its first open), and the private half never leaves the data folder.
 *
 * File: `<data folder>/keys/device-ed25519.pem` (PKCS#8 PEM, mode 0600, folder 0700). `keys export` never copies it.
 *
 * Formats (everything that travels is text):
 * - public key: the raw 32-byte Ed25519 key, base64url without padding (43 characters), e.g. in pairing and device
 *   lists. `isDevicePublicKey` checks the form.
 * - signature: the raw 64-byte Ed25519 signature, base64url without padding (86 characters).
 * - what is signed: bytes the caller builds canonically (a fixed, versioned, `|`-separated text is the pattern here,
 *   see `signedBytes`); sign and verify must build exactly the same bytes.
 *
 * API:
 *   const key = store.signingKey                // the open store's key (or deviceKey(dataDir): load, creating if missing)
 *   key.publicKey                               // base64url raw public key
 *   key.sign(bytes) → signature                 // base64url
 *   verifySignature(publicKey, bytes, sig)      // → boolean; never throws on malformed input
 *   signedBytes('edc-custody/1', [a, b, c])     // canonical bytes for a list of fields
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EdcError } from '../../../shared/errors.ts';

export const DEVICE_KEY_DIR = 'keys';
export const DEVICE_KEY_FILE = 'device-ed25519.pem';

const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{43}$/;
const SIGNATURE_RE = /^[A-Za-z0-9_-]{86}$/;

export interface DeviceKey {
  /** Raw Ed25519 public key, base64url (43 characters). */
  readonly publicKey: string;
  /** Ed25519 signature of `data`, base64url (86 characters). */
  sign(data: Buffer | string): string;
}

class FileDeviceKey implements DeviceKey {
  readonly publicKey: string;
  constructor(private readonly key: KeyObject) {
    this.publicKey = rawPublicKey(createPublicKey(key));
  }

  sign(data: Buffer | string): string {
    return sign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, this.key).toString('base64url');
  }
}

export function deviceKeyFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), DEVICE_KEY_DIR, DEVICE_KEY_FILE);
}

/** Whether the data folder already holds a device key (a read-only look, e.g. at another store for `copy`). */
export function hasDeviceKey(dataDir: string): boolean {
  return existsSync(deviceKeyFile(dataDir));
}

/**
 * The device key of a data folder; made (mode 0600) when the folder has none yet, so devices set up by an older
 * version get one on first open. Throws DEVICE_KEY_UNREADABLE for a damaged file (never replaces it silently: the
 * server has the old public key on record).
 */
export function deviceKey(dataDir: string): DeviceKey {
  const file = deviceKeyFile(dataDir);
  if (!existsSync(file)) createKeyFile(file);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new EdcError('DEVICE_KEY_UNREADABLE', `${file} cannot be read as an Ed25519 private key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new EdcError('DEVICE_KEY_UNREADABLE', `${file} is not an Ed25519 key`);
  return new FileDeviceKey(key);
}

function createKeyFile(file: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    chmodSync(path.dirname(file), 0o700);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, pem, { mode: 0o600, flag: 'wx' });
    // Two processes opening an old folder at once: the first rename wins and both then read the same file.
    if (existsSync(file)) return;
    renameSync(tmp, file);
    chmodSync(file, 0o600);
  } catch (cause) {
    if (existsSync(file)) return;
    throw new EdcError('IO_FAILED', `cannot write the device key ${file}`, { cause });
  }
}

export function isDevicePublicKey(value: string): boolean {
  return PUBLIC_KEY_RE.test(value);
}

/** True only if `signature` is a valid Ed25519 signature of `data` under `publicKey`; malformed input is false. */
export function verifySignature(publicKey: string, data: Buffer | string, signature: string): boolean {
  if (!PUBLIC_KEY_RE.test(publicKey) || !SIGNATURE_RE.test(signature)) return false;
  try {
    const raw = Buffer.from(signature, 'base64url');
    // Only the canonical text of a signature counts (the last character carries 2 spare bits).
    if (raw.toString('base64url') !== signature) return false;
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key, raw);
  } catch {
    return false;
  }
}

/**
 * Canonical bytes of a list of fields under a domain tag (`edc-envelope/1`, `edc-custody/1`, …): each field is
 * length-prefixed, so no choice of field values can make two different lists sign the same bytes, and a signature
 * made for one kind of record never verifies as another.
 */
export function signedBytes(domain: string, fields: readonly (string | number | null | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`${domain}\n`, 'utf8')];
  for (const f of fields) {
    const b = Buffer.isBuffer(f) ? f : Buffer.from(f === null ? '\u0000null' : String(f), 'utf8');
    parts.push(Buffer.from(`${b.length}:`, 'utf8'), b, Buffer.from('\n', 'utf8'));
  }
  return Buffer.concat(parts);
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new EdcError('DEVICE_KEY_UNREADABLE', 'not an Ed25519 key');
  return jwk.x;
}
