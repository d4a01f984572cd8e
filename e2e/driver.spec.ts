/**
 * Driver story: the field laptop shares, the middleman pulls (two separate processes), scans two of the three
 * barcodes plus one unknown, sees one missing and one unexpected, finishes; the reconciliation reaches the site.
 */
import { expect, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

test('driver pulls from a laptop, reconciles specimens and the reconciliation reaches the site', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.device('ra-02', 'field');
  lab.device('mm-01', 'middleman');
  lab.user('ra-02', 'ra', 'research-assistant');
  lab.user('mm-01', 'driver', 'research-assistant');
  const siteUrl = await lab.serve('site-01');
  lab.pair('mm-01', 'site-01', siteUrl);
  lab.pair('ra-02', 'site-01', siteUrl); // the site knows every laptop whose data a middleman brings
  const fieldUrl = await lab.serve('ra-02');
  const mmUrl = await lab.serve('mm-01');

  const field = await (await browser.newContext()).newPage();
  await login(field, fieldUrl, 'ra');
  const barcodes = await registerWithSpecimens(field, info, { first: 'Kagiso', last: 'Molefe', identity: '7705125001083' }, ['CD4', 'Full blood count', 'Stored plasma']);

  await openScreen(field, 'Let the driver pull');
  await field.getByRole('textbox', { name: 'Network address to share on' }).click();
  await field.getByRole('option', { name: '127.0.0.1' }).click();
  await field.getByTestId('share-start').click();
  const url = (await field.getByTestId('share-url').textContent())!;
  const code = (await field.getByTestId('share-code').textContent())!;
  await shot(field, info, 'field-sharing');

  const mm = await (await browser.newContext()).newPage();
  await login(mm, mmUrl, 'driver');
  await openScreen(mm, 'Pull from laptop');
  await mm.getByTestId('pull-url').fill(url);
  await mm.getByTestId('pull-code').fill(code);
  await mm.getByTestId('pull-start').click();
  await expect(mm.getByTestId('pull-result')).toContainText('from ra-02');
  await shot(mm, info, 'middleman-pulled');
  await expect(field.getByTestId('share-result')).toContainText('finished pulling');

  await openScreen(mm, 'Specimen reconciliation');
  await expect(mm.getByTestId('missing-count')).toHaveText('3');
  const box = mm.getByTestId('scan-box');
  for (const code of [barcodes[0]!, barcodes[2]!, 'XZ99UNKNOWN']) {
    await box.fill(code); // a scanner types the code…
    await box.press('Enter'); // …and presses Enter
  }
  await expect(mm.getByTestId('matched-count')).toHaveText('2');
  await expect(mm.getByTestId('missing-count')).toHaveText('1');
  await expect(mm.getByTestId('unexpected-count')).toHaveText('1');
  await expect(mm.getByTestId('missing')).toContainText(barcodes[1]!);
  await expect(box).toBeFocused();
  await shot(mm, info, 'middleman-scanned');
  await mm.getByTestId('reconcile-finish').click();
  await expect(mm.getByTestId('reconcile-result')).toContainText('2 matched, 1 missing, 1 unexpected');

  await openScreen(mm, 'Status');
  await expect(mm.getByTestId('pending-server')).not.toHaveText('0'); // the laptop's transactions and the reconciliation
  await mm.getByTestId('sync-button').click();
  await expect(mm.getByTestId('sync-result')).toContainText('Nothing is waiting');
  await expect(mm.getByTestId('pending-server')).toHaveText('0');
  await shot(mm, info, 'middleman-synced');

  await expect.poll(() => lab.json<{ records: Record<string, number> }>('site-01', ['status']).records['edc.specimen_reconciliation']).toBe(1);
  const site = lab.json<{ records: Record<string, number>; incoming: { error: number } }>('site-01', ['status']);
  expect(site.records['edc.specimen_requisition']).toBe(3);
  expect(site.incoming.error).toBe(0);
});
