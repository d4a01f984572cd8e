/**
 * File transfer story: on the site's web UI a lab assistant presses Send files; the batch goes to the central
 * server's real sshd, central imports it, the receipt comes back on the next send, and the central's web UI shows the
 * file batch consumed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSshd, type Sshd } from '../electron/core/testing/sshd.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

let sshd: Sshd;
test.beforeAll(async () => { sshd = await startSshd(); });
test.afterAll(async () => { await sshd.stop(); });

test('site sends files to central over SFTP; receipts come back; central shows the file batch', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.device('central-01', 'central');
  lab.device('ra-04', 'field');
  lab.user('site-01', 'lab', 'lab-assistant');
  const incoming = path.join(sshd.root, 'central-in');
  mkdirSync(incoming);
  for (const [k, v] of Object.entries({
    remoteServerHost: sshd.host, remotePort: String(sshd.port), remoteUser: sshd.user, privateKeyPath: sshd.clientKey,
    hostKeyFingerprint: sshd.hostFingerprint, remoteTransactionDir: incoming,
  })) lab.cli('site-01', ['config', 'set', k, v]);
  lab.cli('central-01', ['config', 'set', 'importDir', incoming]);
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-04', 'site-01', siteUrl);
  lab.cli('ra-04', ['seed', '--subjects', '2']);
  lab.cli('ra-04', ['push']);
  await expect.poll(() => lab.json<{ incoming: { pending: number; consumed: number } }>('site-01', ['status']).incoming.pending).toBe(0);
  const received = lab.json<{ incoming: { total: number } }>('site-01', ['status']).incoming.total;

  const site = await browser.newPage();
  await login(site, siteUrl, 'lab');
  await openScreen(site, 'File transfer');
  await expect(site.getByTestId('files-pending')).toContainText(`${received} changes are not yet in a file`);
  await site.getByTestId('files-send').click();
  await expect(site.getByTestId('files-result')).toContainText(`1 file sent (${received} changes)`);
  await expect(site.getByTestId('file-state')).toHaveText(['sent']);
  await shot(site, info, 'site-files-sent');

  // Central: a data manager imports what arrived from the Consumed batches screen.
  lab.user('central-01', 'dm', 'data-manager');
  const centralUrl = await lab.serve('central-01');
  const central = await browser.newPage();
  await login(central, centralUrl, 'dm');
  await openScreen(central, 'Consumed batches');
  // The file was damaged on the way (one byte): central sets it aside; the site writes it again and sends it.
  const [dataFile] = readdirSync(incoming).filter((f) => f.endsWith('.jsonl.gz'));
  const bytes = readFileSync(path.join(incoming, dataFile!));
  bytes[bytes.length >> 1]! ^= 0xff;
  writeFileSync(path.join(incoming, dataFile!), bytes);
  await central.getByTestId('import-files').click();
  await expect(central.getByTestId('import-result')).toContainText('1 file was set aside');
  await site.getByRole('button', { name: 'Write batch 1 again' }).click();
  await expect(site.getByTestId('files-resent')).toContainText(`Batch 1 is written again (${received} changes)`);
  await expect(site.getByTestId('file-state')).toHaveText(['to send']);
  await shot(site, info, 'site-files-written-again');
  await site.getByTestId('files-send').click();
  await expect(site.getByTestId('files-result')).toContainText(`1 file sent (${received} changes)`);
  await central.getByTestId('import-files').click();
  await expect(central.getByTestId('import-result')).toContainText(`1 file imported (${received} changes)`);

  await site.getByTestId('files-send').click();
  await expect(site.getByTestId('files-result')).toContainText('1 receipt came back');
  await expect(site.getByTestId('file-state')).toHaveText(['received']);
  await shot(site, info, 'site-files-acknowledged');

  await expect(central.getByTestId('batch-row')).toHaveCount(1);
  await expect(central.getByTestId('batch-row')).toContainText('file');
  await expect(central.getByTestId('batch-consumed')).toHaveText(String(received));
  await expect(central.getByTestId('batch-error')).toHaveText('0');
  await shot(central, info, 'central-batches');

  // The inspector at central: a change made on the laptop, received in the site's file, applied; content for the data manager.
  await central.getByTestId('batch-expand').click();
  await central.getByTestId('session-detail').getByTestId('tx-inspect').first().click();
  await expect(central.getByTestId('inspector-producer')).toHaveText('ra-04');
  await expect(central.getByTestId('inspector-hops')).toContainText('Made on ra-04');
  await expect(central.getByTestId('inspector-hops')).toContainText(/Received here in the file site-01_/);
  await expect(central.getByTestId('inspector-hops')).toContainText('Applied here');
  await expect(central.getByTestId('inspector-content')).toBeVisible();
  await shot(central, info, 'central-inspector');
});
