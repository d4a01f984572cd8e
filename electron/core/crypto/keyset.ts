/**
 * The project key set: AES-256-GCM keys by keyId (rotation keeps old ones for decryption) and one HMAC lookup key.
 * Keys live in a folder outside the database (settings.keyDir), file mode 0600. No key set: KEYS_MISSING, and the
 * caller refuses to write or read ciphertext; nothing ever falls back to plaintext.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EdcError } from '../../../shared/errors.ts';
import { keysetFileSchema, type KeysetFile, type KeysetScope } from '../../../shared/keyset.ts';
import type { Role } from '../../../shared/settings.ts';

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
  /** Envelope keys by keyId. */
  private readonly keys: Map<string, Buffer>;
  /** Keys of PII field ciphertext by keyId: the PII keys, then the envelope keys (fields written before PII keys). Empty in a carrier set. */
  private readonly fieldKeys: Map<string, Buffer>;
  private readonly lookupKey: Buffer | undefined;
  private readonly nonces = new NoncePool();
  readonly activeKeyId: string;
  readonly projectId: string;
  /** full: envelopes and participants' details; carrier (a middleman's set): envelopes only. */
  readonly scope: KeysetScope;

  constructor(readonly file: KeysetFile) {
    this.keys = new Map(file.keys.map((k) => [k.keyId, Buffer.from(k.key, 'base64')]));
    this.scope = file.scope ?? 'full';
    this.fieldKeys = this.scope === 'carrier' ? new Map() : new Map([...(file.piiKeys ?? []), ...file.keys].map((k) => [k.keyId, Buffer.from(k.key, 'base64')]));
    this.lookupKey = file.lookupKey === undefined ? undefined : Buffer.from(file.lookupKey, 'base64');
    this.activeKeyId = file.activeKeyId;
    this.projectId = file.projectId;
  }

  /** A new study's key set: envelope key, PII field key and lookup key. */
  static generate(): KeySet {
    const keyId = newKeyId();
    const piiKeyId = newKeyId('p');
    const created = new Date().toISOString();
    return new KeySet({
      format: 'edc-sync-keyset', version: 1, projectId: randomUUID(),
      lookupKey: randomBytes(32).toString('base64'), activeKeyId: keyId,
      keys: [{ keyId, created, key: randomBytes(32).toString('base64') }],
      piiKeys: [{ keyId: piiKeyId, created, key: randomBytes(32).toString('base64') }], activePiiKeyId: piiKeyId,
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

  /** Whether this set decrypts PII columns (false for a middleman's carrier set). */
  get canReadPii(): boolean {
    return this.scope === 'full';
  }

  /** Whether PII is encrypted under keys of its own (false for sets made before PII keys: fields use the envelope keys). */
  get hasPiiKeys(): boolean {
    return this.file.piiKeys !== undefined;
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** AES-256-GCM with the active key. Returns nonce | ciphertext | tag. `aad` binds the ciphertext to its context. */
  encrypt(plaintext: Buffer, aad: Buffer): { keyId: string; blob: Buffer } {
    return this.seal(this.keys, this.activeKeyId, plaintext, aad);
  }

  /** Throws KEY_UNKNOWN or DECRYPT_FAILED (altered, truncated or wrong-context ciphertext); never returns garbage. */
  decrypt(keyId: string, blob: Buffer, aad: Buffer): Buffer {
    return this.open(this.keys, keyId, blob, aad);
  }

  /**
   * Field-level ciphertext for a PII column: `enc1:<keyId>:<base64>`, self-contained (no key table to sync), under the
   * active PII key (a set made before PII keys: the active envelope key). A carrier set refuses (KEYS_CARRIER).
   */
  encryptField(column: string, value: string): string {
    this.needPii();
    const { keyId, blob } = this.seal(this.fieldKeys, this.file.activePiiKeyId ?? this.activeKeyId, Buffer.from(value, 'utf8'), Buffer.from(`field:${column}`));
    return `enc1:${keyId}:${blob.toString('base64')}`;
  }

  decryptField(column: string, stored: string): string {
    this.needPii();
    const m = /^enc1:([A-Za-z0-9-]{1,64}):([A-Za-z0-9+/=]+)$/.exec(stored);
    if (!m) throw new EdcError('DECRYPT_FAILED', `column ${column} does not hold field ciphertext`);
    return this.open(this.fieldKeys, m[1]!, Buffer.from(m[2]!, 'base64'), Buffer.from(`field:${column}`)).toString('utf8');
  }

  /** Keyed hash for exact lookups of a PII value (case- and space-insensitive). A carrier set refuses (KEYS_CARRIER). */
  lookupHash(column: string, value: string): string {
    this.needPii();
    return createHmac('sha256', this.lookupKey!).update(`${column}\0${normalizeForLookup(value)}`).digest('base64url');
  }

  /**
   * A new active envelope key and a new active PII key (a set made before PII keys gets its first one); old keys stay
   * so existing ciphertext still decrypts. A carrier set cannot be rotated: rotate the full set, export it again.
   */
  rotated(): KeySet {
    if (!this.canReadPii) throw new EdcError('KEYS_CARRIER', 'a middleman\'s key set cannot be rotated: rotate the full key set on the site (or the coordinator\'s device), then export it again for the middleman');
    const keyId = newKeyId();
    const piiKeyId = newKeyId('p');
    const created = new Date().toISOString();
    return new KeySet({
      ...this.file, activeKeyId: keyId,
      keys: [...this.file.keys, { keyId, created, key: randomBytes(32).toString('base64') }],
      piiKeys: [...(this.file.piiKeys ?? []), { keyId: piiKeyId, created, key: randomBytes(32).toString('base64') }], activePiiKeyId: piiKeyId,
    });
  }

  /**
   * Union with another key set of the same project; the imported set's active keys win unless they are older. Full
   * with carrier is full (the full set brings the PII keys), unless `carrierOnly`: then the result is a carrier set
   * (a middleman importing its carrier set drops the PII keys it held).
   */
  merged(other: KeySet, opts: { carrierOnly?: boolean } = {}): KeySet {
    if (other.projectId !== this.projectId) throw new EdcError('KEYS_FOREIGN', `project ${other.projectId} is not ${this.projectId}`);
    const union = (a: KeyEntry[] | undefined, b: KeyEntry[] | undefined): KeyEntry[] | undefined => {
      if (!a && !b) return undefined;
      const byId = new Map((a ?? []).map((k) => [k.keyId, k]));
      for (const k of b ?? []) {
        const mine = byId.get(k.keyId);
        if (mine && mine.key !== k.key) throw new EdcError('KEYS_UNREADABLE', `key ${k.keyId} differs between the two key sets`);
        byId.set(k.keyId, k);
      }
      return [...byId.values()].sort((x, y) => x.created.localeCompare(y.created));
    };
    const newer = (mine: string | undefined, theirs: string | undefined, all: KeyEntry[]): string | undefined => {
      if (!mine || !theirs) return theirs ?? mine;
      const created = (id: string) => all.find((k) => k.keyId === id)!.created;
      return created(theirs) >= created(mine) ? theirs : mine;
    };
    if (this.file.lookupKey && other.file.lookupKey && this.file.lookupKey !== other.file.lookupKey) {
      throw new EdcError('KEYS_UNREADABLE', 'the lookup key differs between the two key sets');
    }
    const keys = union(this.file.keys, other.file.keys)!;
    const carrier = opts.carrierOnly || (!this.canReadPii && !other.canReadPii);
    const base: KeysetFile = { format: 'edc-sync-keyset', version: 1, projectId: this.projectId, activeKeyId: newer(this.activeKeyId, other.activeKeyId, keys)!, keys };
    if (carrier) return new KeySet({ ...base, scope: 'carrier' });
    const full = [this, other].filter((s) => s.canReadPii);
    const piiKeys = union(full[0]!.file.piiKeys, full[1]?.file.piiKeys);
    const lookupKey = full[0]!.file.lookupKey!;
    if (!piiKeys) return new KeySet({ ...base, lookupKey });
    const activePiiKeyId = newer(full[0]!.file.activePiiKeyId, full[1]?.file.activePiiKeyId, piiKeys)!;
    return new KeySet({ ...base, lookupKey, piiKeys, activePiiKeyId });
  }

  /**
   * The middleman's copy (`keys export --for middleman`): the envelope keys only, marked `scope: carrier`. Refused for a
   * set made before PII keys (its PII is encrypted under the envelope keys a middleman would hold): rotate first.
   */
  forCarrier(): KeySet {
    if (!this.canReadPii) return this;
    if (!this.hasPiiKeys) throw new EdcError('KEYS_NO_PII_KEY');
    return new KeySet({ format: 'edc-sync-keyset', version: 1, projectId: this.projectId, scope: 'carrier', activeKeyId: this.activeKeyId, keys: this.file.keys });
  }

  serialize(): string {
    return `${JSON.stringify(this.file, null, 2)}\n`;
  }

  private needPii(): void {
    if (!this.canReadPii) throw new EdcError('KEYS_CARRIER', 'this key set cannot read participants\' details (a middleman\'s carrier key set)');
  }

  private seal(keys: Map<string, Buffer>, keyId: string, plaintext: Buffer, aad: Buffer): { keyId: string; blob: Buffer } {
    const key = keys.get(keyId);
    if (!key) throw new EdcError('KEYS_MISSING');
    const nonce = this.nonces.next();
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    const body = c.update(plaintext);
    const fin = c.final();
    return { keyId, blob: Buffer.concat([nonce, body, fin, c.getAuthTag()]) };
  }

  private open(keys: Map<string, Buffer>, keyId: string, blob: Buffer, aad: Buffer): Buffer {
    const key = keys.get(keyId);
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
}

type KeyEntry = KeysetFile['keys'][number];

function newKeyId(prefix = 'k'): string {
  return `${prefix}-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
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

type KeyStore = { keyDir: string; role: Role; reloadKeys(): void };

/** Refuses a carrier (middleman's) key set on a device that must read participants' details. */
export function assertScopeFits(role: Role, keys: KeySet): void {
  if (role === 'middleman' || keys.canReadPii) return;
  throw new EdcError('KEYS_CARRIER', `this key set cannot read participants' details: ${role === 'field' ? 'a field laptop' : `the ${role} server`} needs the full key set`);
}

/** What a device's installed key set can do, without loading it for use (status, Device screen): none when absent or unreadable. */
export function installedScope(keyDir: string): KeysetScope | 'none' {
  try {
    return keySetExists(keyDir) ? loadKeySet(keyDir).scope : 'none';
  } catch {
    return 'none';
  }
}

/** A middleman holding the full key set could read participants' details: it should hold the carrier set. */
export function middlemanHoldsFullKeys(role: Role, scope: KeysetScope | 'none'): boolean {
  return role === 'middleman' && scope === 'full';
}

/**
 * `keys import FILE` (CLI and the Device screen): install the exported key set, or merge it into the installed one
 * (same study only). The store's cached key set is dropped so running consumers see the new keys at once. A carrier
 * set is refused on a field laptop, a site or central; on a middleman it replaces the PII keys it held (the result
 * is a carrier set), and a full set installed there is allowed but warned about (status, Device screen, CLI).
 */
export function installKeyFile(store: KeyStore, file: string): KeySet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EdcError('KEYS_UNREADABLE', `cannot read ${file}`, { cause });
  }
  return installKeySetText(store, text, file);
}

/** The same from the file's content (the app's Device screen reads the chosen file in the page). */
export function installKeySetText(store: KeyStore, text: string, source: string): KeySet {
  const incoming = KeySet.parse(text, source);
  assertScopeFits(store.role, incoming);
  const next = keySetExists(store.keyDir) ? loadKeySet(store.keyDir).merged(incoming, { carrierOnly: !incoming.canReadPii }) : incoming;
  writeKeySetFile(path.join(store.keyDir, KEYSET_FILE), next);
  store.reloadKeys();
  return next;
}
