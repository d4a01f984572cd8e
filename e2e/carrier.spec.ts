/**
 * A driver's laptop with the carrier key set (issue 10, deliverable 8): it pulls a participant the RA registered,
 * and its "Changes waiting to be sent" screen opens that change with every personal detail shown as "protected";
 * Device & settings says which key set it holds. A driver's laptop given the full key set is warned there.
 */
import path from 'node:path';
import { expect, expectNoFieldNames, login, openScreen, registerWithSpecimens, shot, test } from './fixtures.ts';

const PERSON = { first: 'Amantle', last: 'Segokgo', identity: '904417321' };

test('the driver\'s laptop carries a participant it cannot read; a driver\'s laptop with the full key set is warned', async ({ lab, browser }, info) => {
  test.setTimeout(120_000);
  lab.device('site-01', 'site');
  lab.device('ra-02', 'field');
  // The middleman gets the carrier key set the site exports for it.
  const carrier = path.join(lab.root, 'middleman-keys.json');
  lab.cli('site-01', ['keys', 'export', '--for', 'middleman', '--out', carrier]);
  lab.cli('mm-01', ['init', '--role', 'middleman', '--device-id', 'mm-01']);
  lab.cli('mm-01', ['keys', 'import', carrier]);
  lab.device('mm-02', 'middleman'); // the full key set: warned
  lab.user('ra-02', 'ra', 'research-assistant');
  lab.user('mm-01', 'driver', 'research-assistant');
  lab.user('mm-01', 'boss', 'admin'); // Device & settings is the administrator's
  lab.user('mm-02', 'boss', 'admin');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-02', 'site-01', siteUrl);
  lab.pair('mm-01', 'site-01', siteUrl);
  const fieldUrl = await lab.serve('ra-02');
  const mmUrl = await lab.serve('mm-01');

  const field = await (await browser.newContext()).newPage();
  await login(field, fieldUrl, 'ra');
  await registerWithSpecimens(field, info, PERSON, ['CD4']);
  await openScreen(field, 'Let the driver pull');
  await field.getByRole('textbox', { name: 'Network address to share on' }).click();
  await field.getByRole('option', { name: '127.0.0.1' }).click();
  await field.getByTestId('share-start').click();
  const url = (await field.getByTestId('share-url').textContent())!;
  const code = (await field.getByTestId('share-code').textContent())!;

  const mm = await (await browser.newContext()).newPage();
  await login(mm, mmUrl, 'driver');
  await openScreen(mm, 'Pull from laptop');
  await mm.getByTestId('pull-url').fill(url);
  await mm.getByTestId('pull-code').fill(code);
  await mm.getByTestId('pull-start').click();
  await expect(mm.getByTestId('pull-result')).toContainText('from ra-02', { timeout: 60_000 });

  // The participant's change, opened on the driver's laptop: the details are "protected", the rest readable.
  await openScreen(mm, 'Status');
  await expect(mm.getByTestId('incoming-consumed')).not.toHaveText('0');
  await expect(mm.getByTestId('status-keys-warning')).toHaveCount(0);
  await openScreen(mm, 'Changes waiting to be sent');
  await mm.getByRole('textbox', { name: 'Whose' }).click();
  await mm.getByRole('option', { name: 'pulled from laptops' }).click();
  await mm.getByRole('textbox', { name: 'Kind' }).click();
  await mm.getByRole('option', { name: 'participant', exact: true }).click();
  await expect(mm.getByTestId('pending-total')).toHaveText('1 change');
  await mm.getByTestId('pending-table').getByRole('button', { name: 'Open' }).click();
  const content = mm.getByTestId('tx-content');
  for (const field of ['First name', 'Surname', 'Date of birth', 'Identity number']) {
    await expect(content.getByRole('row', { name: new RegExp(`^${field} protected$`) })).toBeVisible();
  }
  await expect(content.getByRole('row', { name: /^Participant number S/ })).toBeVisible();
  await expectNoFieldNames(content);
  await expect(mm.getByTestId('protected-note')).toHaveText('Participants’ details stay locked on this laptop: the driver’s key set cannot read them.');
  for (const v of Object.values(PERSON)) await expect(mm.locator('body')).not.toContainText(v);
  await expect(mm.locator('body')).not.toContainText('1990-04-12');
  await shot(mm, info, 'middleman-protected');
  await mm.keyboard.press('Escape');

  const admin = await (await browser.newContext()).newPage();
  await login(admin, mmUrl, 'boss');
  await openScreen(admin, 'Device & settings');
  await expect(admin.getByTestId('keys-state')).toContainText('The driver’s key set is installed');
  await expect(admin.getByTestId('keys-warning')).toHaveCount(0);
  await shot(admin, info, 'middleman-carrier-keys');

  // A driver's laptop set up with the full key set.
  const fullUrl = await lab.serve('mm-02');
  const mm2 = await (await browser.newContext()).newPage();
  await login(mm2, fullUrl, 'boss');
  await openScreen(mm2, 'Status');
  await expect(mm2.getByTestId('status-keys-warning')).toContainText('This driver’s laptop holds the full key set');
  await openScreen(mm2, 'Device & settings');
  await expect(mm2.getByTestId('keys-warning')).toContainText('This driver’s laptop holds the full key set');
  await shot(mm2, info, 'middleman-full-keys-warning');
});
