/**
 * What an RA and a driver read in their first hour: numbers with a decimal comma, dates as on an identity card,
 * messages in plain words next to what they are about (the code only in a details line), actions that cannot be
 * repeated disabled with the reason, and a failed sync that says what failed and that nothing was lost.
 */
import { expect, expectNoFieldNames, login, openScreen, shot, test } from './fixtures.ts';

const MACHINE = /ECONN|https?:\/\/127|Too small|expected string|Invalid URL|[A-Z]{3,}_[A-Z_]+|edc\.|subject_id|press Sync again|ask the server/;

test('decimal comma, identity-card dates and plain messages at entry; consent once, with the reason', async ({ lab, page }, info) => {
  lab.device('ra-05', 'field');
  lab.user('ra-05', 'ra', 'research-assistant');
  const url = await lab.serve('ra-05');
  await login(page, url, 'ra');
  await openScreen(page, 'Data entry');
  await page.getByTestId('register-open').click();
  const form = page.getByRole('form', { name: 'Register a participant' });

  // Empty form: each field says what to enter, in words, at the field.
  await form.getByRole('button', { name: 'Register' }).click();
  await expect(form.getByText('Enter the first name.')).toBeVisible();
  await expect(form.getByText('Enter the surname.')).toBeVisible();
  await expect(form.getByText('Enter the identity number (at least 4 characters).')).toBeVisible();
  await expect(form).not.toContainText(MACHINE);
  await form.getByLabel('Date of birth').fill('31/02/1990');
  await form.getByRole('button', { name: 'Register' }).click();
  await expect(form.getByText('That date does not exist: check the day and the month.')).toBeVisible();
  await shot(page, info, 'register-plain-messages');

  await form.getByLabel('First name').fill('Lesedi');
  await form.getByLabel('Surname').fill('Kgosi');
  await form.getByLabel('Date of birth').fill('12/04/1990');
  await expect(form.getByText('Reads as 12 Apr 1990')).toBeVisible();
  await form.getByLabel('Identity number').fill('900412500');
  await form.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByTestId('subject-title')).toContainText('Lesedi Kgosi');
  await expect(page.getByText('Born 12 Apr 1990')).toBeVisible();
  await expect(page.getByTestId('next-step')).toHaveText('Next: record the consent.');

  // Consent for a version is given once: afterwards the button is disabled and says why.
  await page.getByTestId('consent-save').click();
  await expect(page.getByTestId('consents')).toContainText('version 1.0');
  await expect(page.getByTestId('consent-save')).toBeDisabled();
  await expect(page.getByTestId('consent-why')).toHaveText('Consent version 1.0 is already recorded for this participant.');
  await expect(page.getByTestId('next-step')).toHaveText('Next: add the first visit.');
  await page.getByRole('textbox', { name: 'Consent version' }).fill('1,1');
  await expect(page.getByTestId('consent-save')).toBeEnabled();
  await page.getByRole('textbox', { name: 'Consent version' }).fill('1,0');
  await expect(page.getByTestId('consent-save')).toBeDisabled();

  await page.getByTestId('add-visit').click();
  await expect(page.getByTestId('visit')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Visit 1000' })).toBeVisible();
  await expect(page.getByTestId('visit')).not.toContainText('1000.0');

  // Numbers: "4,2" kg and "36,8" °C are 4.2 and 36.8; a comma mistake and an impossible value are refused in words.
  await page.getByRole('tab', { name: /Vital signs/ }).click();
  const vitals = page.getByRole('form', { name: 'Vital signs' });
  await vitals.getByLabel('Weight (kg)').fill('4,2,1');
  await vitals.getByLabel('Temperature (°C)').fill('368');
  await vitals.getByRole('button', { name: 'Save vital signs' }).click();
  await expect(vitals.getByText('Weight (kg): “4,2,1” has more than one decimal mark. Use one comma or point, e.g. 70.5.')).toBeVisible();
  await vitals.getByLabel('Weight (kg)').fill('4,2');
  await vitals.getByRole('button', { name: 'Save vital signs' }).click();
  await expect(vitals.getByText('Temperature (°C): enter a number from 30 to 45, or leave it empty.')).toBeVisible();
  await shot(page, info, 'vitals-refused');
  await vitals.getByLabel('Temperature (°C)').fill('36,8');
  await vitals.getByRole('button', { name: 'Save vital signs' }).click();
  await expect(page.getByRole('tab', { name: /Vital signs ✓/ })).toBeVisible();

  // What was stored: the decrypted vital signs show 4.2 and 36.8, not 42 and 368.
  await openScreen(page, 'Changes waiting to be sent');
  await page.getByRole('textbox', { name: 'Kind' }).click();
  await page.getByRole('option', { name: 'vital signs', exact: true }).click();
  await expect(page.getByTestId('pending-total')).toHaveText('1 change');
  await page.getByTestId('pending-table').getByRole('button', { name: 'Open' }).click();
  await expect(page.getByTestId('tx-content').getByRole('row', { name: /^Weight \(kg\) 4\.2$/ })).toBeVisible();
  await expect(page.getByTestId('tx-content').getByRole('row', { name: /^Temperature \(°C\) 36\.8$/ })).toBeVisible();
  await expectNoFieldNames(page.getByTestId('tx-content'));
  await shot(page, info, 'vitals-stored');
});

test('a failed sync is red, says what failed and what is kept; pairing and pulling speak plainly', async ({ lab, browser }, info) => {
  lab.device('site-01', 'site');
  lab.device('ra-06', 'field');
  lab.device('mm-02', 'middleman');
  lab.user('ra-06', 'ra', 'research-assistant');
  lab.user('ra-06', 'admin', 'admin');
  lab.user('mm-02', 'driver', 'research-assistant');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-06', 'site-01', siteUrl);
  lab.cli('ra-06', ['seed', '--subjects', '3']);
  const pending = lab.json<{ outgoing: { pendingServer: number } }>('ra-06', ['status']).outgoing.pendingServer;
  expect(pending).toBeGreaterThan(0);
  await lab.stop(siteUrl); // the site goes away: the laptop is out of range
  const fieldUrl = await lab.serve('ra-06');
  const mmUrl = await lab.serve('mm-02');

  const field = await (await browser.newContext()).newPage();
  await login(field, fieldUrl, 'ra');
  await expect(field.getByTestId('server-state')).toHaveText('server not reachable');
  await expect(field.getByTestId('server-advice')).not.toContainText(MACHINE);
  await field.getByTestId('sync-button').click();
  const failed = field.getByTestId('sync-error');
  await expect(failed).toContainText('Sync did not finish');
  await expect(failed).toContainText('The server cannot be reached');
  await expect(field.getByTestId('sync-kept')).toHaveText(`Nothing was lost: ${pending.toLocaleString('en-GB')} changes are kept safely on this laptop and go with the next sync.`);
  await expect(field.getByTestId('sync-progress')).toHaveAttribute('data-state', 'failed');
  await expect(field.getByTestId('sync-result')).toHaveCount(0);
  // The machine words are kept for support, in the details line only.
  await expect(failed.getByTestId('problem-details').or(failed.locator('text=/Details for support/'))).toContainText('SERVER_UNREACHABLE');
  await expect(failed.locator('p').first()).not.toContainText(MACHINE);
  await expect(field.getByTestId('server-state')).toHaveText('server not reachable');
  await shot(field, info, 'sync-failed');

  // Pairing with a mistyped address: the field's own words, not "server.url: Invalid URL".
  const admin = await (await browser.newContext()).newPage();
  await login(admin, fieldUrl, 'admin');
  await openScreen(admin, 'Device & settings');
  await admin.getByLabel('Server address').fill('10.0.0.5 port 8080');
  await admin.getByLabel('Pairing code').fill('ABCD-1234');
  await admin.getByRole('button', { name: 'Pair' }).click();
  await expect(admin.getByRole('alert')).toContainText('Enter the server address as the site shows it, e.g. http://10.0.0.5:8080.');
  await expect(admin.getByRole('alert').locator('p').first()).not.toContainText(MACHINE);
  await shot(admin, info, 'pair-plain');

  // The driver types a wrong share code: the laptop's code, not "ask the server".
  await openScreen(field, 'Let the driver pull');
  await field.getByRole('textbox', { name: 'Network address to share on' }).click();
  await field.getByRole('option', { name: '127.0.0.1' }).click();
  await field.getByTestId('share-start').click();
  const shareUrl = (await field.getByTestId('share-url').textContent())!;
  const mm = await (await browser.newContext()).newPage();
  await login(mm, mmUrl, 'driver');
  await openScreen(mm, 'Pull from laptop');
  await mm.getByTestId('pull-url').fill(shareUrl);
  await mm.getByTestId('pull-code').fill('WRONG-CODE');
  await mm.getByTestId('pull-start').click();
  await expect(mm.getByRole('alert')).toContainText('The code does not match the one on the laptop’s screen.');
  await expect(mm.getByRole('alert')).not.toContainText(/ask .*server|Sync again/);
  // A laptop that is not there (wrong address): the Wi-Fi question.
  await mm.getByTestId('pull-url').fill('http://127.0.0.1:9');
  await mm.getByTestId('pull-start').click();
  await expect(mm.getByRole('alert')).toContainText('The laptop cannot be reached: are both on the same Wi-Fi?');
  await shot(mm, info, 'pull-plain');
});
