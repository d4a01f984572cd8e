/**
 * The project key set: AES-256-GCM keys by keyId (rotation keeps old ones for decryption) and one HMAC lookup key.
 * Keys live in a folder outside the database (settings.keyDir), file mode 0600. No key set: KEYS_MISSING, and the
 * caller refuses to write or read ciphertext; nothing ever falls back to plaintext.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EdcError } from '../../../shared/errors.ts';
import { keysetFileSchema, type KeysetFile } from '../../../shared/keyset.ts';

const NONCE = 12;
const TAG = 16;
export const KEYSET_FILE = 'keyset.json';

/** Random nonces drawn from a pooled buffer: one getrandom call per 4096 encryptions instead of one each. */
class NoncePool {
  private buf = Buffer.alloc(NONCE * 4096);
  private at = this.buf.length;
  next(): Buffer {
    if (this.at >= this.buf.length) {
      this.buf = Buffer.alloc(this.buf.length);
      randomFillSync(this.buf);
      this.at = 0;
    }
    const n = this.buf.subarray(this.at, this.at + NONCE);
    this.at += NONCE;
    return n;
  }
}

export class KeySet {
  private readonly keys: Map<string, Buffer>;
  private readonly lookupKey: Buffer;
  private readonly nonces = new NoncePool();
  readonly activeKeyId: string;
  readonly projectId: string;

  constructor(readonly file: KeysetFile) {
    this.keys = new Map(file.keys.map((k) => [k.keyId, Buffer.from(k.key, 'base64')]));
    this.lookupKey = Buffer.from(file.lookupKey, 'base64');
    this.activeKeyId = file.activeKeyId;
    this.projectId = file.projectId;
  }

  static generate(): KeySet {
    const keyId = newKeyId();
    return new KeySet({
      format: 'edc-sync-keyset', version: 1, projectId: randomUUID(),
      lookupKey: randomBytes(32).toString('base64'), activeKeyId: keyId,
      keys: [{ keyId, created: new Date().toISOString(), key: randomBytes(32).toString('base64') }],
    });
  }

  static parse(text: string, source: string): KeySet {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EdcError('KEYS_UNREADABLE', `${source} is not JSON`);
    }
    const parsed = keysetFileSchema.safeParse(json);
    if (!parsed.success) throw new EdcError('KEYS_UNREADABLE', `${source}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return new KeySet(parsed.data);
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** AES-256-GCM with the active key. Returns nonce | ciphertext | tag. `aad` binds the ciphertext to its context. */
  encrypt(plaintext: Buffer, aad: Buffer): { keyId: string; blob: Buffer } {
    const key = this.keys.get(this.activeKeyId);
    if (!key) throw new EdcError('KEYS_MISSING');
    const nonce = this.nonces.next();
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    const body = c.update(plaintext);
    const fin = c.final();
    return { keyId: this.activeKeyId, blob: Buffer.concat([nonce, body, fin, c.getAuthTag()]) };
  }

  /** Throws KEY_UNKNOWN or DECRYPT_FAILED (altered, truncated or wrong-context ciphertext); never returns garbage. */
  decrypt(keyId: string, blob: Buffer, aad: Buffer): Buffer {
    const key = this.keys.get(keyId);
    if (!key) throw new EdcError('KEY_UNKNOWN', `key ${keyId} is not in this device's key set`);
    if (blob.length < NONCE + TAG) throw new EdcError('DECRYPT_FAILED', 'ciphertext is truncated');
    try {
      const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE));
      d.setAAD(aad);
      d.setAuthTag(blob.subarray(blob.length - TAG));
      return Buffer.concat([d.update(blob.subarray(NONCE, blob.length - TAG)), d.final()]);
    } catch (cause) {
      throw new EdcError('DECRYPT_FAILED', 'authentication tag does not match', { cause });
    }
  }

  /** Field-level ciphertext for a PII column: `enc1:<keyId>:<base64>`, self-contained (no key table to sync). */
  encryptField(column: string, value: string): string {
    const { keyId, blob } = this.encrypt(Buffer.from(value, 'utf8'), Buffer.from(`field:${column}`));
    return `enc1:${keyId}:${blob.toString('base64')}`;
  }

  decryptField(column: string, stored: string): string {
    const m = /^enc1:([A-Za-z0-9-]{1,64}):([A-Za-z0-9+/=]+)$/.exec(stored);
    if (!m) throw new EdcError('DECRYPT_FAILED', `column ${column} does not hold field ciphertext`);
    return this.decrypt(m[1]!, Buffer.from(m[2]!, 'base64'), Buffer.from(`field:${column}`)).toString('utf8');
  }

  /** Keyed hash for exact lookups of a PII value (case- and space-insensitive). */
  lookupHash(column: string, value: string): string {
    return createHmac('sha256', this.lookupKey).update(`${column}\0${normalizeForLookup(value)}`).digest('base64url');
  }

  /** A new active key; old keys stay so existing ciphertext still decrypts. */
  rotated(): KeySet {
    const keyId = newKeyId();
    return new KeySet({
      ...this.file, activeKeyId: keyId,
      keys: [...this.file.keys, { keyId, created: new Date().toISOString(), key: randomBytes(32).toString('base64') }],
    });
  }

  /** Union with another key set of the same project; the imported set's active key wins unless it is older. */
  merged(other: KeySet): KeySet {
    if (other.projectId !== this.projectId) throw new EdcError('KEYS_FOREIGN', `project ${other.projectId} is not ${this.projectId}`);
    const byId = new Map(this.file.keys.map((k) => [k.keyId, k]));
    for (const k of other.file.keys) {
      const mine = byId.get(k.keyId);
      if (mine && mine.key !== k.key) throw new EdcError('KEYS_UNREADABLE', `key ${k.keyId} differs between the two key sets`);
      byId.set(k.keyId, k);
    }
    const created = (s: KeySet) => s.file.keys.find((k) => k.keyId === s.activeKeyId)!.created;
    const activeKeyId = created(other) >= created(this) ? other.activeKeyId : this.activeKeyId;
    return new KeySet({ ...this.file, activeKeyId, keys: [...byId.values()].sort((a, b) => a.created.localeCompare(b.created)) });
  }

  serialize(): string {
    return `${JSON.stringify(this.file, null, 2)}\n`;
  }
}

function newKeyId(): string {
  return `k-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}

export function normalizeForLookup(value: string): string {
  return value.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function loadKeySet(keyDir: string): KeySet {
  const file = path.join(keyDir, KEYSET_FILE);
  if (!existsSync(file)) throw new EdcError('KEYS_MISSING', `no key set in ${keyDir}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EdcError('KEYS_UNREADABLE', `cannot read ${file}`, { cause });
  }
  return KeySet.parse(text, file);
}

export function keySetExists(keyDir: string): boolean {
  return existsSync(path.join(keyDir, KEYSET_FILE));
}

/** Atomic write (temporary name, then rename), mode 0600 in a 0700 folder. */
export function writeKeySetFile(file: string, keys: KeySet): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, keys.serialize(), { mode: 0o600 });
    renameSync(tmp, file);
    chmodSync(file, 0o600);
  } catch (cause) {
    throw new EdcError('IO_FAILED', `cannot write ${file}`, { cause });
  }
}

/**
 * `keys import FILE` (CLI and the Device screen): install the exported key set, or merge it into the installed one
 * (same study only). The store's cached key set is dropped so running consumers see the new keys at once.
 */
export function installKeyFile(store: { keyDir: string; reloadKeys(): void }, file: string): KeySet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EdcError('KEYS_UNREADABLE', `cannot read ${file}`, { cause });
  }
  return installKeySetText(store, text, file);
}

/** The same from the file's content (the app's Device screen reads the chosen file in the page). */
export function installKeySetText(store: { keyDir: string; reloadKeys(): void }, text: string, source: string): KeySet {
  const incoming = KeySet.parse(text, source);
  const next = keySetExists(store.keyDir) ? loadKeySet(store.keyDir).merged(incoming) : incoming;
  writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), next);
  store.reloadKeys();
  return next;
}
