/** `edc-sync specimens time-to-lab`: on the site only, days checked, CSV with the web UI's header. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TIME_TO_LAB_CSV_HEADER } from '../shared/time-to-lab.ts';
import { main } from './cli.ts';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'edc-sync', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: { EDC_SYNC_USER: 'tester' }, readSecret: async () => '' });
  return { code, out, err };
}

describe('cli specimens time-to-lab', () => {
  let root: string;
  before(() => { root = mkdtempSync(path.join(os.tmpdir(), 'edc-cli-ttl-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('answers on a site, refuses other roles and bad days', async () => {
    const site = path.join(root, 'site-01');
    const field = path.join(root, 'ra-01');
    assert.equal((await run(['--data', site, 'init', '--role', 'site', '--device-id', 'site-01'])).code, 0);
    assert.equal((await run(['--data', field, 'init', '--role', 'field', '--device-id', 'ra-01'])).code, 0);
    assert.equal((await run(['--data', site, 'config', 'set', 'timeZone', 'Africa/Gaborone'])).code, 0);
    assert.match((await run(['--data', site, 'config', 'set', 'timeZone', 'Mars/Olympus'])).err[0]!, /\[SETTING_VALUE_INVALID\]$/);

    const text = await run(['--data', site, 'specimens', 'time-to-lab', '--from', '2026-12-01', '--to', '2026-12-03']);
    assert.equal(text.code, 0);
    assert.deepEqual(text.out, ['time to lab, tubes drawn 2026-12-01 to 2026-12-03 (Africa/Gaborone), receipt = the lab\'s reconciliation here', 'no tube drawn on these days has been received at the lab yet']);
    const csv = await run(['--data', site, 'specimens', 'time-to-lab', '--csv']);
    assert.deepEqual(csv.out, [TIME_TO_LAB_CSV_HEADER.join(',')]);
    const json = await run(['--data', site, 'specimens', 'time-to-lab', '--json', '--to', '2026-12-03']);
    assert.deepEqual((JSON.parse(json.out[0]!) as { from: string; to: string; overall: null }), { timeZone: 'Africa/Gaborone', from: '2026-11-20', to: '2026-12-03', receipt: 'lab-reconciliation', overall: null, days: [], laptops: [], dayLaptops: [] });

    assert.match((await run(['--data', site, 'specimens', 'time-to-lab', '--from', '2026-12-04', '--to', '2026-12-03'])).err[0]!, /\[INPUT_INVALID\]$/);
    assert.match((await run(['--data', site, 'specimens', 'time-to-lab', '--from', '3/12/2026'])).err[0]!, /\[INPUT_INVALID\]$/);
    assert.match((await run(['--data', field, 'specimens', 'time-to-lab'])).err[0]!, /\[ROLE_NOT_ALLOWED\]$/);
    assert.notEqual((await run(['--data', site, 'specimens', 'time-to-lab', '--csv', '--json'])).code, 0, '--csv and --json exclude each other');
  });
});
