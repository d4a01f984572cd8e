/** The electron-builder configuration, validated offline (stub Electron, no native rebuild): see scripts/package-check.sh. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

it('electron-builder packs the app: files in the asar, native module and migrations unpacked, main set', () => {
  const r = spawnSync('bash', ['scripts/package-check.sh'], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /package config OK: \d+ files in app\.asar/);
});
