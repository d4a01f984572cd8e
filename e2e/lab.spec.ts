/**
 * Lab assistant story: logs in to the site's web UI, sees the consumed batches with counts, opens a failed
 * transaction's reason, fixes the cause (the study's newer key set), retries, sees it consumed.
 */
import path from 'node:path';
import { Store } from '../electron/core/store.ts';
import { pushAsOlderApp } from '../electron/core/testing/processes.ts';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

test('lab assistant finds a failed transaction and fixes the cause; the server applies it by itself', async ({ lab, page }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'lab', 'lab-assistant');
  lab.device('ra-03', 'field');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-03', 'site-01', siteUrl);
  // The laptop rotated its key mid-visit and the site never got the new key set: part of the push cannot be read.
  lab.cli('ra-03', ['seed', '--subjects', '1']);
  lab.cli('ra-03', ['keys', 'rotate']);
  lab.cli('ra-03', ['seed', '--subjects', '1', '--seed', '7']);
  // An app of an older version pushes it all (today's keeps what the site cannot read back at pre-flight, with the reason).
  const older = Store.open(lab.dir('ra-03'));
  try {
    await pushAsOlderApp(older);
  } finally {
    older.close();
  }

  await login(page, siteUrl, 'lab');
  await openScreen(page, 'Consumed batches');
  await expect(page.getByTestId('batch-row')).toHaveCount(1);
  await expect(page.getByTestId('batch-error')).not.toHaveText('0');
  const total = Number(await page.getByTestId('batch-total').textContent());
  expect(Number(await page.getByTestId('batch-consumed').textContent())).toBeLessThan(total);
  await shot(page, info, 'batches-with-errors');

  await page.getByRole('button', { name: 'Show details' }).click();
  await expect(page.getByTestId('tx-reason').first()).toContainText('newer study key');
  await shot(page, info, 'failed-transaction-reason');

  // The fix: the study coordinator's newer key set is imported on the site (here with the CLI).
  const keyFile = path.join(lab.root, 'rotated-keys.json');
  lab.cli('ra-03', ['keys', 'export', '--out', keyFile]);
  lab.cli('site-01', ['keys', 'import', keyFile]);

  // The running server sees the new key set within seconds and applies what failed for want of it: no restart, and
  // no Retry needed (Retry stays for causes the server cannot see).
  await expect.poll(() => lab.json<{ incoming: { error: number } }>('site-01', ['status']).incoming.error, { timeout: 30_000 }).toBe(0);
  await page.reload();
  await expect(page.getByTestId('batch-error')).toHaveText('0');
  await expect(page.getByTestId('batch-consumed')).toHaveText(String(total));
  await shot(page, info, 'batches-after-retry');
  expect(lab.json<{ incoming: { error: number; consumed: number } }>('site-01', ['status']).incoming).toMatchObject({ error: 0, consumed: total });
});
