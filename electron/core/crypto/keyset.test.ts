import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isEdcError } from '../../../shared/errors.ts';
import { assertScopeFits, installKeySetText, KeySet, loadKeySet, writeKeySetFile, KEYSET_FILE } from './keyset.ts';

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
    assert.match(stored, /^enc1:p-[0-9]{8}-[0-9a-f]{8}:/);
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

  it('a carrier (middleman\'s) key set: envelopes yes, participants\' details never; recognisably reduced', () => {
    const full = KeySet.generate();
    const carrier = full.forCarrier();
    const json = JSON.parse(carrier.serialize()) as Record<string, unknown>;
    assert.equal(json.scope, 'carrier');
    assert.deepEqual(Object.keys(json).sort(), ['activeKeyId', 'format', 'keys', 'projectId', 'scope', 'version']);
    assert.ok(!carrier.serialize().includes(full.file.lookupKey!), 'no lookup key (it would let a carrier test guesses)');
    assert.ok(!carrier.serialize().includes(full.file.piiKeys![0]!.key), 'no PII key');
    const parsed = KeySet.parse(carrier.serialize(), 'carrier');
    assert.equal(parsed.canReadPii, false);
    const env = full.encrypt(Buffer.from('payload'), aad);
    assert.equal(parsed.decrypt(env.keyId, env.blob, aad).toString(), 'payload', 'a carrier decrypts envelopes');
    const field = full.encryptField('first_name', 'Kagiso');
    for (const f of [() => parsed.decryptField('first_name', field), () => parsed.encryptField('first_name', 'x'), () => parsed.lookupHash('first_name', 'x'), () => parsed.rotated()]) {
      assert.throws(f, (e) => isEdcError(e, 'KEYS_CARRIER'));
    }
    // Even with the envelope key, the field ciphertext is under another key.
    assert.throws(() => parsed.decrypt(field.split(':')[1]!, Buffer.from(field.split(':')[2]!, 'base64'), Buffer.from('field:first_name')), (e) => isEdcError(e, 'KEY_UNKNOWN'));
    for (const bad of [{ ...json, lookupKey: full.file.lookupKey }, { ...json, piiKeys: full.file.piiKeys, activePiiKeyId: full.file.activePiiKeyId }]) {
      assert.throws(() => KeySet.parse(JSON.stringify(bad), 'bad'), (e) => isEdcError(e, 'KEYS_UNREADABLE'), 'a carrier set with PII keys is not a carrier set');
    }
    const { lookupKey: _l, ...noLookup } = full.file;
    assert.throws(() => KeySet.parse(JSON.stringify(noLookup), 'bad'), (e) => isEdcError(e, 'KEYS_UNREADABLE'), 'a full set needs its lookup key');
    // Roles: only a middleman takes it.
    assert.doesNotThrow(() => assertScopeFits('middleman', parsed));
    for (const role of ['field', 'site', 'central'] as const) {
      assert.throws(() => assertScopeFits(role, parsed), (e) => isEdcError(e, 'KEYS_CARRIER') && /cannot read participants' details: .* needs the full key set/.test(e.message));
      assert.doesNotThrow(() => assertScopeFits(role, full));
    }
  });

  it('merging: carrier + full is full, except a middleman importing its carrier set drops the PII keys; rotation carries on', () => {
    const full = KeySet.generate();
    const rotated = full.rotated();
    assert.notEqual(rotated.file.activePiiKeyId, full.file.activePiiKeyId, 'rotation renews the PII key too');
    assert.equal(rotated.file.piiKeys!.length, 2);
    const carrier = rotated.forCarrier();
    assert.equal(carrier.merged(full).canReadPii, true);
    assert.equal(full.merged(carrier).canReadPii, true);
    const dropped = full.merged(carrier, { carrierOnly: true });
    assert.equal(dropped.scope, 'carrier');
    assert.equal(dropped.activeKeyId, rotated.activeKeyId);
    assert.equal(dropped.file.keys.length, 2);
    const both = full.merged(rotated);
    assert.equal(both.file.activePiiKeyId, rotated.file.activePiiKeyId);
    assert.equal(both.decryptField('phone', full.encryptField('phone', '+267 71 000 001')), '+267 71 000 001');
    // Installing on a device folder.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edc-keys-'));
    try {
      const store = (role: 'field' | 'middleman') => ({ keyDir: path.join(dir, role), role, reloadKeys: () => {} });
      assert.throws(() => installKeySetText(store('field'), carrier.serialize(), 'carrier'), (e) => isEdcError(e, 'KEYS_CARRIER') && /a field laptop needs the full key set/.test(e.message));
      assert.equal(installKeySetText(store('middleman'), full.serialize(), 'full').scope, 'full');
      assert.equal(installKeySetText(store('middleman'), carrier.serialize(), 'carrier').scope, 'carrier', 'the carrier set replaces the PII keys');
      assert.equal(loadKeySet(path.join(dir, 'middleman')).file.piiKeys, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a key set made before PII keys: its fields still decrypt, no carrier copy until rotated', () => {
    const legacy = KeySet.parse(readFileSync(new URL('../testing/golden/v1/keyset.json', import.meta.url), 'utf8'), 'golden');
    assert.equal(legacy.hasPiiKeys, false);
    const field = legacy.encryptField('last_name', 'Molefe');
    assert.match(field, /^enc1:k-/, 'fields under the envelope key, as before');
    assert.throws(() => legacy.forCarrier(), (e) => isEdcError(e, 'KEYS_NO_PII_KEY'));
    const next = legacy.rotated();
    assert.equal(next.decryptField('last_name', field), 'Molefe');
    assert.match(next.encryptField('last_name', 'Molefe'), /^enc1:p-/);
    assert.equal(next.forCarrier().scope, 'carrier');
    assert.equal(next.lookupHash('last_name', 'Molefe'), legacy.lookupHash('last_name', 'molefe'), 'lookups keep working');
  });
});
