import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnCli } from '../testing/processes.ts';
import { Store } from '../store.ts';
import { deviceKey, deviceKeyFile, hasDeviceKey, isDevicePublicKey, signedBytes, verifySignature } from './device-key.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'edc-devkey-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('device key', () => {
  it('is made at init, private (0600 in a 0700 folder), and signs what verifies under its public key only', () => {
    const store = Store.init(path.join(root, 'ra-01'), 'field', 'ra-01');
    try {
      const file = deviceKeyFile(store.dir);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
      assert.match(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
      const key = store.signingKey;
      assert.ok(isDevicePublicKey(key.publicKey));
      const data = signedBytes('edc-test/1', ['a', 1, null, Buffer.from([0, 1, 2])]);
      const sig = key.sign(data);
      assert.ok(verifySignature(key.publicKey, data, sig));
      const other = Store.init(path.join(root, 'ra-02'), 'field', 'ra-02');
      try {
        assert.notEqual(other.signingKey.publicKey, key.publicKey);
        assert.equal(verifySignature(other.signingKey.publicKey, data, sig), false, 'another device\'s key does not verify it');
      } finally {
        other.close();
      }
      const altered = Buffer.from(data);
      altered[altered.length - 2]! ^= 1;
      assert.equal(verifySignature(key.publicKey, altered, sig), false, 'altered bytes do not verify');
      const flipped = `${sig.slice(0, 40)}${sig[40] === 'A' ? 'B' : 'A'}${sig.slice(41)}`;
      const lastChar = sig.slice(-1);
      const sameBytes = `${sig.slice(0, -1)}${String.fromCharCode(lastChar.charCodeAt(0) ^ 1)}`; // non-canonical spare bits
      for (const bad of ['', 'x', flipped, sameBytes, sig.replace(/./, '!'), 'A'.repeat(86)]) {
        assert.equal(verifySignature(key.publicKey, data, bad), false, `malformed signature ${bad.slice(0, 8)}`);
      }
      assert.equal(verifySignature('not-a-key', data, sig), false);
      assert.equal(verifySignature('A'.repeat(43), data, sig), false);
    } finally {
      store.close();
    }
  });

  it('field lists are length-prefixed: moving a separator changes the signed bytes', () => {
    assert.notDeepEqual(signedBytes('d', ['a|b', 'c']), signedBytes('d', ['a', 'b|c']));
    assert.notDeepEqual(signedBytes('d', ['a\n2:bc']), signedBytes('d', ['a', 'bc']));
    assert.notDeepEqual(signedBytes('d', [null]), signedBytes('d', ['null']));
    assert.notDeepEqual(signedBytes('d1', ['x']), signedBytes('d2', ['x']));
  });

  it('a data folder made before device keys gets one on first open, and keeps it', () => {
    const dir = path.join(root, 'old-site');
    Store.init(dir, 'site', 'site-01').close();
    unlinkSync(deviceKeyFile(dir)); // as an older version left it
    const ro = Store.open(dir, { readonly: true });
    ro.close();
    assert.equal(hasDeviceKey(dir), false, 'a read-only open (copy --from) creates nothing');
    const s1 = Store.open(dir);
    const pub = s1.signingKey.publicKey;
    s1.close();
    assert.equal(statSync(deviceKeyFile(dir)).mode & 0o777, 0o600);
    const s2 = Store.open(dir);
    assert.equal(s2.signingKey.publicKey, pub);
    s2.close();
    assert.equal(deviceKey(dir).publicKey, pub);
  });

  it('a damaged key file is an error, never silently replaced', () => {
    const dir = path.join(root, 'damaged');
    Store.init(dir, 'field', 'ra-09').close();
    writeFileSync(deviceKeyFile(dir), 'garbage', { mode: 0o600 });
    assert.throws(() => deviceKey(dir), (e: Error & { code?: string }) => e.code === 'DEVICE_KEY_UNREADABLE');
  });

  it('`init` in a pre-existing 755 folder makes it 0700 and the store 0600; an old loose store is warned about', async () => {
    const dir = path.join(root, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const p = spawnCli(['--data', dir, 'init', '--role', 'site', '--device-id', 'site-02']);
    assert.equal(await p.exited, 0, p.stderr.join('\n'));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dir, 'edc-sync.db')).mode & 0o777, 0o600);
    assert.deepEqual(p.stderr.filter((l) => l.startsWith('warning')), []);
    // A folder left loose (as versions before this one made it): the server says so on start.
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'edc-sync.db'), 0o644);
    const store = Store.open(dir);
    const warnings = store.permissionWarnings();
    store.close();
    assert.match(warnings[0]!, /can be opened by other accounts/);
    assert.ok(warnings.some((w) => /edc-sync\.db is readable by other accounts/.test(w)), warnings.join('\n'));
  });
});
