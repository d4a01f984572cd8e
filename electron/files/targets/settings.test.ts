/** Settings files from before file targets (the original's remote* names) still load and mean the same. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { missingTargetSettings } from '../../../shared/settings.ts';
import { targetLabel } from './index.ts';
import { readSettings, withSetting, writeSettings } from '../../core/settings-file.ts';

const OLD = {
  role: 'site', deviceId: 'site-01', remoteServerHost: 'central.example.org', remotePort: 2222, remoteUser: 'edc',
  privateKeyPath: 'keys/id_ed25519', hostKeyFingerprint: 'SHA256:abc', remoteTransactionDir: '/srv/edc/incoming', remoteMediaDir: '/srv/edc/media',
};

describe('settings file: the SFTP settings of older versions', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edc-settings-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an old file loads as the SFTP target with the same values; saved again, it has the new names only', () => {
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(OLD));
    const s = readSettings(dir);
    assert.equal(s.fileTarget, 'sftp');
    assert.deepEqual([s.sftpHost, s.sftpPort, s.sftpUser, s.sftpPrivateKeyPath, s.sftpHostKeyFingerprint, s.sftpTransactionDir, s.sftpMediaDir],
      ['central.example.org', 2222, 'edc', 'keys/id_ed25519', 'SHA256:abc', '/srv/edc/incoming', '/srv/edc/media']);
    assert.deepEqual(missingTargetSettings(s), []);
    assert.equal(targetLabel(s), 'edc@central.example.org:/srv/edc/incoming', 'Send files goes where it went');
    writeSettings(dir, s);
    const saved = JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(saved.sftpHost, 'central.example.org');
    assert.ok(!Object.keys(saved).some((k) => k.startsWith('remote') || k === 'privateKeyPath' || k === 'hostKeyFingerprint'));
    assert.deepEqual(readSettings(dir), s);
  });

  it('a new name already in the file wins over a legacy one; config set takes the legacy names', () => {
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ ...OLD, sftpHost: 'new.example.org' }));
    const s = readSettings(dir);
    assert.equal(s.sftpHost, 'new.example.org');
    assert.equal(withSetting(s, 'remoteServerHost', 'other.example.org').sftpHost, 'other.example.org');
    assert.equal(withSetting(s, 'remotePort', '2200').sftpPort, 2200);
    assert.throws(() => withSetting(s, 'remotePort', '99999'), /sftpPort/);
    assert.equal(targetLabel(withSetting(s, 'fileTarget', 'folder')), null, 'a folder target without its folder is not set up');
    assert.equal(targetLabel(withSetting(withSetting(s, 'fileTarget', 'folder'), 'folderPath', '/media/usb')), '/media/usb');
  });
});
