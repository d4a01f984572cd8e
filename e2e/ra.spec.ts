/** RA story: register a subject, requisition three specimens, press Sync, see 0 pending and the site showing the data. */
import { expect, expectNoFieldNames, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

test('RA registers a subject, requisitions three specimens and syncs to the site', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'dm', 'data-manager');
  lab.device('ra-01', 'field');
  lab.user('ra-01', 'ra', 'research-assistant');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-01', 'site-01', siteUrl);
  const fieldUrl = await lab.serve('ra-01');

  const field = await browser.newPage();
  await login(field, fieldUrl, 'ra');
  const barcodes = await registerWithSpecimens(field, info, { first: 'Amara', last: 'Okafor', identity: '8801015009087' }, ['CD4', 'Viral load', 'Chemistry']);
  expect(barcodes).toHaveLength(3);

  // Vital signs: an impossible value is caught at the field, with the allowed range; a plausible one is saved.
  await field.getByRole('tab', { name: /Vital signs/ }).click();
  const vitals = field.getByRole('form', { name: 'Vital signs' });
  await vitals.getByLabel('Weight (kg)').fill('999');
  await vitals.getByLabel('Systolic (mmHg)').fill('120');
  await vitals.getByRole('button', { name: 'Save vital signs' }).click();
  await expect(vitals.getByText('Weight (kg): enter a number from 0.5 to 400, or leave it empty.')).toBeVisible();
  await vitals.getByLabel('Weight (kg)').fill('70.5');
  await vitals.getByRole('button', { name: 'Save vital signs' }).click();
  await expect(field.getByRole('tab', { name: /Vital signs ✓/ })).toBeVisible();

  // Pending transactions: filter to subjects, open one: its content decrypted for the RA.
  await openScreen(field, 'Changes waiting to be sent');
  await expect(field.getByTestId('pending-total')).not.toHaveText('No changes');
  await field.getByRole('textbox', { name: 'Kind' }).click();
  await field.getByRole('option', { name: 'participant', exact: true }).click();
  await expect(field.getByTestId('pending-total')).toHaveText('1 change');
  await field.getByTestId('pending-table').getByRole('button', { name: 'Open' }).click();
  await expect(field.getByTestId('tx-content').getByRole('row', { name: /^First name Amara$/ })).toBeVisible();
  // A coded answer in words: gender "F" reads Female.
  await expect(field.getByTestId('tx-content').getByRole('row', { name: /^Gender Female$/ })).toBeVisible();
  await expect(field.getByTestId('tx-content')).toContainText('Changed by ra');
  await expectNoFieldNames(field.getByTestId('tx-content'));
  await shot(field, info, 'pending-decrypted');
  await field.keyboard.press('Escape');

  // The visit's reason ("scheduled") and the consent's yes/no (true) in words too.
  await field.getByRole('textbox', { name: 'Kind' }).click();
  await field.getByRole('option', { name: 'visit', exact: true }).click();
  await expect(field.getByTestId('pending-total')).toHaveText('1 change');
  await field.getByTestId('pending-table').getByRole('button', { name: 'Open' }).click();
  await expect(field.getByTestId('tx-content').getByRole('row', { name: /^Reason Scheduled$/ })).toBeVisible();
  await field.keyboard.press('Escape');
  await field.getByRole('textbox', { name: 'Kind' }).click();
  await field.getByRole('option', { name: 'consent', exact: true }).click();
  await expect(field.getByTestId('pending-total')).toHaveText('1 change');
  await field.getByTestId('pending-table').getByRole('button', { name: 'Open' }).click();
  await expect(field.getByTestId('tx-content').getByRole('row', { name: /^Can read and write Yes$/ })).toBeVisible();
  await shot(field, info, 'pending-coded-values');
  await field.keyboard.press('Escape');

  await openScreen(field, 'Status');
  await expect(field.getByTestId('server-state')).toHaveText('server reachable');
  await expect(field.getByTestId('pending-server')).not.toHaveText('0');
  await shot(field, info, 'field-before-sync');
  await field.getByTestId('sync-button').click();
  await expect(field.getByTestId('sync-result')).toContainText('Nothing is waiting');
  await expect(field.getByTestId('pending-server')).toHaveText('0');
  await shot(field, info, 'field-after-sync');

  // The site shows the data (consumed in the background).
  const site = await browser.newPage();
  await login(site, siteUrl, 'dm');
  await expect(site.getByTestId('records-edc.subject')).toHaveText('1');
  await expect(site.getByTestId('records-edc.specimen_requisition')).toHaveText('3');
  await shot(site, info, 'site-status');
  await openScreen(site, 'Consumed batches');
  await expect(site.getByTestId('batch-row')).toHaveCount(1);
  const total = await site.getByTestId('batch-total').textContent();
  await expect(site.getByTestId('batch-consumed')).toHaveText(total!);
  await shot(site, info, 'site-batches');
  const status = lab.json<{ records: Record<string, number>; incoming: { error: number } }>('site-01', ['status']);
  expect(status.records['edc.specimen_requisition']).toBe(3);
  expect(status.incoming.error).toBe(0);
});
