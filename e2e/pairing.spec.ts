/**
 * An administrator pairs a device from the site's web UI: the code is bound to the device id and role chosen, shown
 * large once, and works once on that device; a second code for an id already paired is refused in plain words, and
 * a lab assistant has no such button.
 */
import { expect, login, openScreen, shot, test } from './fixtures.ts';

test('an admin pairs a laptop from the Devices screen; the code works once, for that id only', async ({ lab, browser }, info) => {
  lab.device('site-05', 'site');
  lab.device('ra-31', 'field');
  lab.device('ra-32', 'field');
  lab.user('site-05', 'root', 'admin');
  lab.user('site-05', 'lab', 'lab-assistant');
  const url = await lab.serve('site-05');

  const admin = await (await browser.newContext()).newPage();
  await login(admin, url, 'root');
  await openScreen(admin, 'Devices');
  await admin.getByTestId('pair-open').click();
  const dialog = admin.getByRole('dialog');
  await dialog.getByTestId('pair-device-id').fill('ra-31');
  await dialog.getByTestId('pair-role').click();
  await admin.getByRole('option', { name: 'Field laptop (Research Assistant)' }).click();
  await shot(admin, info, 'pair-1-form');
  await dialog.getByTestId('pair-issue').click();
  await expect(dialog.getByTestId('pair-result')).toContainText('Pairing code for ra-31 as field laptop');
  const code = (await dialog.getByTestId('pair-code').textContent())!.trim();
  expect(code.length).toBeGreaterThanOrEqual(4);
  await shot(admin, info, 'pair-2-code');

  // Another laptop cannot use it; the laptop it was made for can, once.
  expect(() => lab.cli('ra-32', ['pair', '--server', url, '--code', code])).toThrow(/PAIRING_CODE_INVALID|for another device/i);
  lab.cli('ra-31', ['pair', '--server', url, '--code', code]);
  expect(() => lab.cli('ra-31', ['pair', '--server', url, '--code', code])).toThrow();

  // A second code for the paired id: refused in plain words, next to the field; "Replaces a machine" is the way.
  await dialog.getByTestId('pair-another').click();
  await dialog.getByTestId('pair-device-id').fill('ra-31');
  await dialog.getByTestId('pair-issue').click();
  await expect(dialog.getByTestId('pair-error')).toContainText('it is already paired (tick “Replaces a machine”');
  await shot(admin, info, 'pair-3-already-paired');
  await dialog.getByTestId('pair-replace').check();
  await dialog.getByTestId('pair-issue').click();
  await expect(dialog.getByTestId('pair-result')).toBeVisible();
  await admin.keyboard.press('Escape');
  await expect(admin.locator('[data-device="ra-31"]')).toBeVisible();

  // A lab assistant sees the devices, not the button.
  const labPage = await (await browser.newContext()).newPage();
  await login(labPage, url, 'lab');
  await openScreen(labPage, 'Devices');
  await expect(labPage.getByTestId('devices-table')).toBeVisible();
  await expect(labPage.getByTestId('pair-open')).toHaveCount(0);
});
