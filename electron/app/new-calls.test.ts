/**
 * Bad input on the calls this round added (devices.pairingCode, files.resend, custody.chain, custody.flagged): each
 * is refused with its code before anything is written, and a role without the permission is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallOutput } from '../../shared/contract.ts';
import { plainMessage } from '../../shared/messages.ts';
import type { Store } from '../core/store.ts';
import { TestDirs } from '../core/testing/fixtures.ts';
import { createBackend, type Backend, type Principal } from './backend.ts';
import { dispatch } from './dispatch.ts';

const ADMIN: Principal = { username: 'root', role: 'admin' };
const LAB: Principal = { username: 'lab', role: 'lab-assistant' };

describe('new calls refuse bad input', () => {
  let dirs: TestDirs;
  let site: Backend;
  let store: Store;
  before(() => {
    dirs = new TestDirs();
    store = dirs.store('site', 'site-n1');
    site = createBackend({ dataDir: store.dir, host: 'web', emit: () => {}, store });
  });
  after(async () => {
    await site.close();
    dirs.cleanup();
  });
  const codeOf = async (who: Principal, name: string, input: unknown) => {
    const r = await dispatch(site, who, name, input);
    return r.ok ? 'ok' : r.error.code;
  };

  it('devices.pairingCode: a bad id, a server role, its own id, a paired id without replace, a lab assistant', async () => {
    assert.equal(await codeOf(ADMIN, 'devices.pairingCode', { deviceId: 'not an id!', role: 'field' }), 'INPUT_INVALID');
    assert.equal(await codeOf(ADMIN, 'devices.pairingCode', { deviceId: 'site-02', role: 'site' }), 'INPUT_INVALID');
    assert.equal(await codeOf(ADMIN, 'devices.pairingCode', { deviceId: 'site-n1', role: 'field' }), 'INPUT_INVALID');
    assert.equal(await codeOf(ADMIN, 'devices.pairingCode', { deviceId: 'ra-n1', role: 'field', replace: true }), 'RECORD_NOT_FOUND');
    assert.equal(await codeOf(LAB, 'devices.pairingCode', { deviceId: 'ra-n1', role: 'field' }), 'PERMISSION_DENIED');
    assert.equal(await codeOf(ADMIN, 'devices.pairingCode', { deviceId: 'ra-n1', role: 'field' }), 'ok');
    // ra-n1 pairs (as the device would with that code); a second plain code for it is refused.
    store.sql.prepare("INSERT INTO device (device_id, role, token_hash, paired_at) VALUES ('ra-n1', 'field', 'x', ?)").run(new Date().toISOString());
    const again = await dispatch(site, ADMIN, 'devices.pairingCode', { deviceId: 'ra-n1', role: 'field' });
    assert.ok(!again.ok, JSON.stringify(again));
    const plain = plainMessage('devices.pairingCode', { code: again.error.code, message: again.error.message });
    assert.equal(plain.key, 'devices.pairAlready', 'the screen says it in plain words');
  });

  it('files.resend, custody.chain, custody.flagged: malformed or unknown input', async () => {
    assert.equal(await codeOf(ADMIN, 'files.resend', { batchId: 'batch-1' }), 'INPUT_INVALID');
    assert.equal(await codeOf(ADMIN, 'files.resend', { batchId: '0190a0b0-0000-7000-8000-00000000dead' }), 'RECORD_NOT_FOUND');
    assert.equal(await codeOf(LAB, 'custody.chain', { tube: 'no spaces allowed' }), 'INPUT_INVALID');
    assert.equal(await codeOf(LAB, 'custody.chain', { tube: 'RRA99000001X', extra: 1 }), 'INPUT_INVALID');
    assert.equal(await codeOf(LAB, 'custody.flagged', { page: -1 }), 'INPUT_INVALID');
    assert.equal(await codeOf(LAB, 'custody.flagged', { pageSize: 1000 }), 'INPUT_INVALID');
    const unknown = await dispatch(site, LAB, 'custody.chain', { tube: 'RRA99000001X' });
    assert.ok(unknown.ok);
    const { chain } = (unknown.ok ? unknown.value : null) as CallOutput<'custody.chain'>;
    assert.deepEqual([chain.steps, chain.drawnBy], [[], null], 'a tube nobody recorded: an empty chain, which the screen says plainly');
  });
});
