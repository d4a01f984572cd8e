/** Device set-up from the UI: an admin imports the study's key set by choosing the exported file. */
import path from 'node:path';
import { expect, login, openScreen, shot, test } from './fixtures.ts';

test('an admin installs the study key set by choosing the file; a wrong file is refused with the reason', async ({ lab, page }, info) => {
  lab.device('ra-09', 'field'); // creates the study keys
  const keyFile = path.join(lab.root, 'study-keys.json');
  lab.cli('central-09', ['init', '--role', 'central', '--device-id', 'central-09']); // no keys yet
  lab.user('central-09', 'root', 'admin');
  const url = await lab.serve('central-09');
  await login(page, url, 'root');
  await openScreen(page, 'Device & settings');
  await expect(page.getByText('No key set yet')).toBeVisible();

  const choose = async (file: string | { name: string; mimeType: string; buffer: Buffer }) => {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByLabel(/Key set file/).click()]);
    await chooser.setFiles(file);
  };
  await choose({ name: 'wrong.json', mimeType: 'application/json', buffer: Buffer.from('{"not":"a key set"}') });
  await page.getByRole('button', { name: 'Import keys' }).click();
  await expect(page.getByRole('alert')).toContainText('That key file cannot be read. Ask the study coordinator for the key file again.');

  await choose(keyFile);
  await page.getByRole('button', { name: 'Import keys' }).click();
  await expect(page.getByText(/key set of project .* installed/)).toBeVisible();
  await expect(page.getByText('A key set is installed.')).toBeVisible();
  await shot(page, info, 'keys-installed');
  expect(lab.cli('central-09', ['config', 'get', 'keyDir']).trim()).toBe('keys');
});
