import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isEdcError } from '../../../shared/errors.ts';
import { KeySet, loadKeySet, writeKeySetFile, KEYSET_FILE } from './keyset.ts';

const aad = Buffer.from('ctx');

describe('KeySet', () => {
  it('round-trips AES-256-GCM and never repeats a nonce', () => {
    const k = KeySet.generate();
    const a = k.encrypt(Buffer.from('hello'), aad);
    const b = k.encrypt(Buffer.from('hello'), aad);
    assert.notDeepEqual(a.blob, b.blob);
    assert.equal(k.decrypt(a.keyId, a.blob, aad).toString(), 'hello');
    const nonces = new Set<string>();
    for (let i = 0; i < 10_000; i++) nonces.add(k.encrypt(Buffer.from('x'), aad).blob.subarray(0, 12).toString('hex'));
    assert.equal(nonces.size, 10_000);
  });

  it('refuses tampered, truncated, wrong-context and unknown-key ciphertext with a code', () => {
    const k = KeySet.generate();
    const { keyId, blob } = k.encrypt(Buffer.from('{"a":1}'), aad);
    const flipped = Buffer.from(blob);
    flipped[14] = flipped[14]! ^ 1;
    assert.throws(() => k.decrypt(keyId, flipped, aad), (e) => isEdcError(e, 'DECRYPT_FAILED'));
    assert.throws(() => k.decrypt(keyId, blob.subarray(0, 20), aad), (e) => isEdcError(e, 'DECRYPT_FAILED'));
    assert.throws(() => k.decrypt(keyId, blob, Buffer.from('other')), (e) => isEdcError(e, 'DECRYPT_FAILED'));
    assert.throws(() => k.decrypt('k-nope', blob, aad), (e) => isEdcError(e, 'KEY_UNKNOWN'));
    assert.throws(() => KeySet.generate().decrypt(keyId, blob, aad), (e) => isEdcError(e, 'KEY_UNKNOWN'));
  });

  it('rotation: new ciphertext uses the new key, old ciphertext still decrypts', () => {
    const k1 = KeySet.generate();
    const old = k1.encrypt(Buffer.from('old'), aad);
    const k2 = k1.rotated();
    const fresh = k2.encrypt(Buffer.from('new'), aad);
    assert.notEqual(fresh.keyId, old.keyId);
    assert.equal(k2.decrypt(old.keyId, old.blob, aad).toString(), 'old');
    assert.throws(() => k1.decrypt(fresh.keyId, fresh.blob, aad), (e) => isEdcError(e, 'KEY_UNKNOWN'));
    const merged = k1.merged(k2);
    assert.equal(merged.activeKeyId, k2.activeKeyId);
    assert.equal(merged.decrypt(fresh.keyId, fresh.blob, aad).toString(), 'new');
  });

  it('merging a key set of another project is refused', () => {
    assert.throws(() => KeySet.generate().merged(KeySet.generate()), (e) => isEdcError(e, 'KEYS_FOREIGN'));
  });

  it('field ciphertext is self-contained and the lookup hash ignores case and spacing', () => {
    const k = KeySet.generate();
    const stored = k.encryptField('first_name', 'Kagiso');
    assert.match(stored, /^enc1:k-[0-9]{8}-[0-9a-f]{8}:/);
    assert.ok(!stored.includes('Kagiso'));
    assert.equal(k.decryptField('first_name', stored), 'Kagiso');
    assert.throws(() => k.decryptField('last_name', stored), (e) => isEdcError(e, 'DECRYPT_FAILED'));
    assert.equal(k.lookupHash('last_name', ' Molefe '), k.lookupHash('last_name', 'molefe'));
    assert.notEqual(k.lookupHash('last_name', 'Molefe'), k.lookupHash('first_name', 'Molefe'));
    assert.notEqual(k.lookupHash('last_name', 'Molefe'), KeySet.generate().lookupHash('last_name', 'Molefe'));
  });

  it('a key file that is missing, not JSON or not a key set gives a clear error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edc-keys-'));
    try {
      assert.throws(() => loadKeySet(dir), (e) => isEdcError(e, 'KEYS_MISSING'));
      writeFileSync(path.join(dir, KEYSET_FILE), '{not json');
      assert.throws(() => loadKeySet(dir), (e) => isEdcError(e, 'KEYS_UNREADABLE'));
      writeFileSync(path.join(dir, KEYSET_FILE), JSON.stringify({ format: 'edc-sync-keyset', version: 1 }));
      assert.throws(() => loadKeySet(dir), (e) => isEdcError(e, 'KEYS_UNREADABLE'));
      const k = KeySet.generate();
      writeKeySetFile(path.join(dir, KEYSET_FILE), k);
      assert.equal(loadKeySet(dir).activeKeyId, k.activeKeyId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
